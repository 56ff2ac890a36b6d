import InfillDiagnostics

/// Why a template or pipeline could not be used: a `Diagnostic` (the one error value of every
/// layer), under the name the documents layer has always used.
public typealias DocumentError = Diagnostic

/// A position in a user's file (`InfillDiagnostics.SourceLocation`).
public typealias SourceLocation = InfillDiagnostics.SourceLocation

/// Several ``DocumentError``s found in one pass, so `infill check` can list them all.
public struct DocumentErrors: Error, Sendable, CustomStringConvertible {
    /// The errors in the order they were found (at least one).
    public var errors: [DocumentError]

    public init(_ errors: [DocumentError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
