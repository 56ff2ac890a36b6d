#if canImport(Glibc)
import Glibc
#endif

/// Why a claimed input was refused before its bytes were read.
public enum InputRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is at the name is a FIFO, a device, a folder, a socket or a link, not a file.
    case notRegularFile(kind: String)
    /// The file is larger than `max_input_bytes`.
    case tooLarge(size: Int64, limit: Int)

    public var description: String {
        switch self {
        case .notRegularFile(let kind): "not a regular file but \(kind)"
        case .tooLarge(let size, let limit):
            "the document is \(size) bytes, more than the \(limit) bytes that max_input_bytes allows"
        }
    }

    /// What the person who dropped the file can do about it.
    public var hint: String {
        switch self {
        case .notRegularFile: "only regular files are filled: drop the file itself, not a pipe, device, folder or link"
        case .tooLarge: "split the document, or raise max_input_bytes in infill.yaml"
        }
    }
}

/// Reads claimed inputs defensively: the open never blocks (a FIFO swapped in after the settle
/// check would block a plain `open` forever), never follows a link, and the size is checked with
/// `fstat` on the open file before a byte is read.
enum InputFile {
    static func read(_ path: String, limit: Int) throws(SpoolError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            // O_NOFOLLOW on a link fails with ELOOP: report what it is rather than the errno.
            if code == ELOOP { throw SpoolError.refused(path, .notRegularFile(kind: "a symbolic link")) }
            throw SpoolError.io(SystemError("open", path, code: code))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SpoolError.io(SystemError("stat", path)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw SpoolError.refused(path, .notRegularFile(kind: kind(info.st_mode)))
        }
        let size = Int64(info.st_size)
        guard size <= Int64(limit) else { throw SpoolError.refused(path, .tooLarge(size: size, limit: limit)) }
        let bytes: [UInt8]
        do {
            bytes = try FileOperations.readAll(fd, path: path, limit: limit)
        } catch {
            throw SpoolError.io(error)
        }
        // Still growing after the fstat: refused all the same, without reading further.
        guard bytes.count <= limit else { throw SpoolError.refused(path, .tooLarge(size: Int64(bytes.count), limit: limit)) }
        return bytes
    }

    /// "a FIFO", "a folder", …: what a non-regular file is, for the error report.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a folder"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "a special file"
        }
    }
}
