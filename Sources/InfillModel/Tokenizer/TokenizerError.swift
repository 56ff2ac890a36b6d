/// A tokenizer description (GGUF metadata or `tokenizer.json`) that cannot be used.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    /// The file (or other source) the description came from.
    public var source: String
    /// What is wrong, including where when that is known.
    public var message: String

    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }
}
