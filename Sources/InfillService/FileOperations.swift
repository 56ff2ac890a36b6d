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
        stamp(Array(path.utf8))
    }

    /// ``stamp(_:)`` of a path given as raw bytes (a name that is not UTF-8).
    static func stamp(_ path: [UInt8]) -> FileStamp? {
        var info = stat()
        guard path.withCString({ lstat($0, &info) }) == 0 else { return nil }
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return FileStamp(
            size: Int64(info.st_size), modified: modified,
            isRegularFile: (info.st_mode & S_IFMT) == S_IFREG)
    }

    /// True when something (a file, a folder, a link, even a dangling one) has this name.
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// One name in a directory: its bytes, and the name as text when the bytes are valid UTF-8.
    struct DirectoryEntry: Equatable {
        var bytes: [UInt8]
        /// Nil for a name that is not UTF-8 (the daemon cannot hand it to the document layer).
        var name: String? { String(validating: bytes, as: UTF8.self) }
    }

    /// The entries of a directory, without `.` and `..`.
    static func entries(_ directory: String) throws(SystemError) -> [DirectoryEntry] {
        guard let dir = opendir(directory) else { throw SystemError("open directory", directory) }
        defer { closedir(dir) }
        return readEntries(dir)
    }

    private static func readEntries(_ dir: OpaquePointer) -> [DirectoryEntry] {
        var entries: [DirectoryEntry] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: UInt8.self, capacity: 256) { Array(UnsafeBufferPointer(start: $0, count: strlen(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)))) }
            }
            if bytes != [0x2E] && bytes != [0x2E, 0x2E] { entries.append(DirectoryEntry(bytes: bytes)) }
        }
        return entries
    }

    /// The UTF-8 names in a directory, without `.` and `..`.
    static func list(_ directory: String) throws(SystemError) -> [String] {
        try entries(directory).compactMap(\.name)
    }

    /// Removes every file in `directory` without following links: neither the folder itself nor
    /// anything in it may be a link that leads elsewhere. Sub-folders are left alone.
    static func removeFiles(in directory: String) throws(SystemError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open directory", directory) }
        guard let dir = fdopendir(fd) else {
            let error = SystemError("open directory", directory)
            close(fd)
            throw error
        }
        defer { closedir(dir) }
        for entry in readEntries(dir) {
            // unlinkat removes a link itself, never its target; EISDIR/EPERM leave sub-folders.
            _ = entry.bytes.withCString { unlinkat(fd, $0, 0) }
        }
    }

    /// True when `path` is a directory itself, not a link to one.
    static func isRealDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The device a path lives on (after following links), or nil when it cannot be stat'ed.
    static func device(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_dev)
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
        DurabilityLog.record(.rename(from: from, to: to), path: to)
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
        try renameNoReplace(Array(from.utf8), to, describing: from)
    }

    /// ``renameNoReplace(_:_:)`` for a source path given as raw bytes (a name that is not UTF-8).
    static func renameNoReplace(_ from: [UInt8], _ to: String, describing: String) throws(SystemError) -> RenameOutcome {
        let result: Result<RenameOutcome, SystemError> = from.withCString { source in
            to.withCString { target in
                renameNoReplace(source, target, describing: "\(describing) -> \(to)")
            }
        }
        if case .success(.renamed) = result { DurabilityLog.record(.rename(from: describing, to: to), path: to) }
        return try result.get()
    }

    private static func renameNoReplace(
        _ from: UnsafePointer<CChar>, _ to: UnsafePointer<CChar>, describing: String
    ) -> Result<RenameOutcome, SystemError> {
        func exists(_ path: UnsafePointer<CChar>) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0
        }
        if let renameat2 {
            if renameat2(AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */) == 0 { return .success(.renamed) }
            let code = errno
            switch code {
            case ENOENT where exists(to) || !exists(from): return .success(.sourceMissing)
            case EEXIST: return .success(.targetExists)
            case EINVAL, ENOSYS: break  // filesystem without RENAME_NOREPLACE: use link below
            default: return .failure(SystemError("rename", describing, code: code))
            }
        }
        if link(from, to) != 0 {
            let code = errno
            if code == ENOENT { return .success(.sourceMissing) }
            if code == EEXIST { return .success(.targetExists) }
            return .failure(SystemError("rename", describing, code: code))
        }
        if unlink(from) != 0 && errno != ENOENT { return .failure(SystemError("remove", describing)) }
        return .success(.renamed)
    }

    /// Reads a whole file (a link is not followed).
    static func read(_ path: String) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        return try readAll(fd, path: path, limit: Int.max)
    }

    /// Reads from `fd` until the end, or until more than `limit` bytes came (then returns
    /// `limit + 1` bytes, so the caller sees that the file is too large).
    static func readAll(_ fd: Int32, path: String, limit: Int) throws(SystemError) -> [UInt8] {
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
            if bytes.count > limit { break }
        }
        return bytes
    }

    /// Creates `path` (which must not exist yet, not even as a link), writes `bytes` and fsyncs
    /// before closing.
    ///
    /// `O_EXCL | O_NOFOLLOW`: a file or link planted at the name makes this fail instead of writing
    /// through it. The mode is masked by the umask (0660 under the unit's `UMask=0007`).
    static func writeDurably(_ bytes: [UInt8], to path: String, mode: mode_t = 0o666) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw SystemError("create", path) }
        var failure: SystemError?
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                failure = SystemError("write", path)
                break
            }
            offset += n
        }
        if failure == nil {
            if fsync(fd) != 0 { failure = SystemError("fsync", path) } else { DurabilityLog.record(.fsyncFile(path), path: path) }
        }
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
        if fsync(fd) == 0 { DurabilityLog.record(.fsyncDirectory(path), path: path) }
        close(fd)
    }

    /// Removes a file; a missing file is not an error.
    static func remove(_ path: String) throws(SystemError) {
        if unlink(path) == 0 {
            DurabilityLog.record(.unlink(path), path: path)
        } else if errno != ENOENT {
            throw SystemError("remove", path)
        }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the bytes as a NUL-terminated C string (a file name from `readdir`).
    func withCString<Result>(_ body: (UnsafePointer<CChar>) -> Result) -> Result {
        (self + [0]).withUnsafeBufferPointer { buffer in
            // Never nil: the buffer holds at least the terminating NUL.
            buffer.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}
