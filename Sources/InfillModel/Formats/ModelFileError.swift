/// A model file that cannot be used: truncated, corrupt or of an unsupported kind.
///
/// The message always names the file and, where known, the byte offset or tensor involved, so a
/// user can tell which file is wrong and why.
public struct ModelFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or folder) that could not be used.
    public let path: String
    /// What is wrong with it.
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
