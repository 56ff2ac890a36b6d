/// A problem in a user's file, with the place to look and what to do: the one error value of
/// pipelines, templates, the daemon's configuration, `failed/NAME.error.json` and the CLI.
///
/// Printed one way, `file:line:column: message (hint: …)`: the column is left out when only the
/// line is known, the position when nothing is, the hint when there is none. ``isPermanent``
/// tells the daemon whether retrying could help: bad YAML or an unsatisfiable constraint never
/// will (the input goes to `failed/`); a model that fails to run might (it is retried with
/// backoff).
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, in one sentence.
    public var message: String
    /// The file the problem is in, or nil when it is about no file in particular.
    public var file: String?
    /// 1-based line, or nil when the problem is about the file as a whole.
    public var line: Int?
    /// 1-based column (Unicode scalars), or nil when only the line is known.
    public var column: Int?
    /// What the user can do about it, if there is something specific to say.
    public var hint: String?
    /// False for problems that might go away on retry (model errors, I/O).
    public var isPermanent: Bool

    public init(
        _ message: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
        hint: String? = nil, isPermanent: Bool = true
    ) {
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint
        self.isPermanent = isPermanent
    }

    /// A problem at a ``SourceLocation``.
    public init(_ message: String, at location: SourceLocation, hint: String? = nil) {
        self.init(message, file: location.file, line: location.line, column: location.column, hint: hint)
    }

    /// `file:line:column`, `file:line` or `file`; empty when there is no file.
    public var position: String {
        guard let file else { return "" }
        guard let line else { return file }
        return "\(file):\(line)" + (column.map { ":\($0)" } ?? "")
    }

    /// `file:line:column: message (hint: …)`.
    public var description: String {
        var text = position.isEmpty ? message : "\(position): \(message)"
        if let hint { text += " (hint: \(hint))" }
        return text
    }
}
