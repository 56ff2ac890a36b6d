/// Why a template or pipeline could not be used, with the place to look and what to do.
///
/// Rendered as one line, `file:line:column: message (hint: …)`. ``isPermanent`` tells the daemon
/// whether retrying could help: bad YAML or an unsatisfiable constraint never will (the input
/// goes to `failed/`); a model that fails to run might (it is retried with backoff).
public struct DocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public var message: String
    /// The file the problem is in.
    public var file: String
    /// 1-based line, or nil when the problem is about the file as a whole.
    public var line: Int?
    /// 1-based column (Unicode scalars), or nil with ``line``.
    public var column: Int?
    /// What the user can do about it, if there is something specific to say.
    public var hint: String?
    /// False for problems that might go away on retry (model errors, I/O).
    public var isPermanent: Bool

    public init(
        _ message: String, file: String, line: Int? = nil, column: Int? = nil,
        hint: String? = nil, isPermanent: Bool = true
    ) {
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        self.isPermanent = isPermanent
    }

    /// An error at a ``SourceLocation``.
    public init(_ message: String, at location: SourceLocation, hint: String? = nil) {
        self.init(message, file: location.file, line: location.line, column: location.column, hint: hint)
    }

    /// `file:line:column` (or just `file` when there is no position).
    public var position: String {
        guard let line else { return file }
        return "\(file):\(line):\(column ?? 1)"
    }

    /// `file:line:column: message (hint: …)`.
    public var description: String {
        var text = "\(position): \(message)"
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}

/// Several ``DocumentError``s found in one pass, so `infill check` can list them all.
public struct DocumentErrors: Error, Sendable, CustomStringConvertible {
    /// The errors in the order they were found (at least one).
    public var errors: [DocumentError]

    public init(_ errors: [DocumentError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
