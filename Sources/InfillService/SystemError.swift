#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a path, rendered as one line: `rename inbox/a.md: No such file or directory`.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// What was being done (`open`, `rename`, `fsync`, …).
    public var operation: String
    /// The path it was done to.
    public var path: String
    /// The `errno` value.
    public var code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// False for errors that may go away by themselves (disk full, out of memory, quota, I/O
    /// hiccups), as for a `Diagnostic`.
    public var isPermanent: Bool {
        ![ENOSPC, EDQUOT, ENOMEM, EAGAIN, EINTR, EIO, EMFILE, ENFILE, EBUSY].contains(code)
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}
