import InfillDiagnostics

/// A problem in `infill.yaml`: a `Diagnostic`, printed as every other one is,
/// `infill.yaml:3:1: unknown key 'worker' (hint: did you mean 'workers'?)`.
public typealias ConfigurationError = Diagnostic

extension Diagnostic {
    /// A problem in a configuration file, in the argument order the loader writes it.
    public init(file: String, line: Int? = nil, column: Int? = nil, message: String, hint: String? = nil) {
        self.init(message, file: file, line: line, column: column, hint: hint)
    }
}
