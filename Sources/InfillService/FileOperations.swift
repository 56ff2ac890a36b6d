#if canImport(Glibc)
import Glibc
#endif

/// The size and modification time of a file, for the settle check.
public struct FileStamp: Equatable, Sendable {
    public var size: Int64
    /// Modification time in nanoseconds since the epoch.
    public var modified: Int64
    public var isRegularFile: Bool
}

/// What a no-replace rename did.
enum RenameOutcome: Equatable {
    case renamed
    /// The source was gone (someone else claimed it, or the writer removed it).
    case sourceMissing
    /// The target name is taken; nothing was changed.
    case targetExists
}

/// Thin wrappers over the Glibc calls the spool needs; every failure is a ``SystemError``.
///
/// Foundation's `FileManager` hides `errno` and has no fsync or no-replace rename, which the spool
/// protocol depends on, hence the direct calls.
enum FileOperations {
    /// `lstat(2)` of `path`, or nil when it does not exist (or cannot be stat'ed).
    ///
    /// A symbolic link is not a regular file: the daemon never follows links dropped into the
    /// inbox (one could point at a file only the daemon may read).
    static func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return FileStamp(
            size: Int64(info.st_size), modified: modified,
            isRegularFile: (info.st_mode & S_IFMT) == S_IFREG)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The names in a directory, without `.` and `..`.
    static func list(_ directory: String) throws(SystemError) -> [String] {
        guard let dir = opendir(directory) else { throw SystemError("open directory", directory) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `mkdir -p`, with `mode` for the folders it creates.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SystemError("create directory", current)
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SystemError("create directory", path, code: ENOTDIR)
        }
    }

    /// Atomic `rename(2)`; replaces an existing target.
    static func rename(_ from: String, _ to: String) throws(SystemError) {
        if Glibc.rename(from, to) != 0 { throw SystemError("rename", "\(from) -> \(to)") }
    }

    private typealias RenameAt2 = @convention(c) (
        Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32
    ) -> Int32

    /// glibc's `renameat2`, looked up at run time because Swift's Glibc module does not export it.
    private static let renameat2: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()

    /// Renames without ever replacing an existing target (`RENAME_NOREPLACE`).
    ///
    /// Falls back to `link` + `unlink` where the kernel or filesystem lacks `renameat2`.
    static func renameNoReplace(_ from: String, _ to: String) throws(SystemError) -> RenameOutcome {
        if let renameat2 {
            if renameat2(AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0 { return .renamed }
            let code = errno
            switch code {
            case ENOENT where exists(to) || !exists(from): return .sourceMissing
            case EEXIST: return .targetExists
            case EINVAL, ENOSYS: break  // filesystem without RENAME_NOREPLACE: use link below
            default: throw SystemError("rename", "\(from) -> \(to)", code: code)
            }
        }
        if link(from, to) != 0 {
            let code = errno
            if code == ENOENT { return .sourceMissing }
            if code == EEXIST { return .targetExists }
            throw SystemError("rename", "\(from) -> \(to)", code: code)
        }
        if unlink(from) != 0 && errno != ENOENT { throw SystemError("remove", from) }
        return .renamed
    }

    /// Reads a whole file.
    static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Creates or truncates `path`, writes `bytes` and fsyncs before closing.
    static func writeDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("create", path) }
        var failure: SystemError?
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                failure = SystemError("write", path)
                break
            }
            offset += n
        }
        if failure == nil && fsync(fd) != 0 { failure = SystemError("fsync", path) }
        if close(fd) != 0 && failure == nil { failure = SystemError("close", path) }
        if let failure {
            unlink(path)
            throw failure
        }
    }

    /// fsyncs a directory so the renames in it survive a power cut; errors are ignored
    /// (some filesystems refuse fsync on directories).
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Removes a file; a missing file is not an error.
    static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw SystemError("remove", path) }
    }
}
