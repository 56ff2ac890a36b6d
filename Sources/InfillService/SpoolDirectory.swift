import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The crash-safe spool on disk: claim, commit, fail and put back, each an atomic rename.
///
/// Nothing is lost: an input is only removed after its output was fsynced and renamed into the
/// outbox. Nothing is done twice: a claimed input lives in `state/processing/` (outside the watched
/// inbox) until it is committed or failed, and after a crash it is processed again, which writes
/// the same bytes (outputs are deterministic), so the outbox never holds a duplicate.
public final class SpoolDirectory: Sendable {
    public let layout: SpoolLayout
    /// Keep committed inputs in `state/done/` instead of removing them.
    public let keepDone: Bool
    /// Serialises choosing a free name and renaming into it, across worker threads.
    private let outboxLock = Mutex(())
    private let failedLock = Mutex(())
    private let lockDescriptor = Mutex<Int32>(-1)

    public init(layout: SpoolLayout, keepDone: Bool = false) {
        self.layout = layout
        self.keepDone = keepDone
    }

    deinit {
        lockDescriptor.withLock { if $0 >= 0 { close($0) } }
    }

    /// Creates the folders, checks that the inbox and the state folder share a filesystem, and
    /// takes the spool lock so a second daemon cannot work on the same spool.
    public func prepare() throws(SpoolError) {
        do {
            // The inbox is group-writable and setgid where the systemd guide sets it up; only
            // create it here, never change an existing folder's mode.
            try FileOperations.makeDirectories(layout.inbox)
            for path in [layout.outbox, layout.failed, layout.state, layout.processing,
                         layout.outboxTemporary, layout.failedTemporary] {
                try FileOperations.makeDirectories(path)
            }
            if keepDone { try FileOperations.makeDirectories(layout.done) }
        } catch {
            throw SpoolError.setup(error.description)
        }
        var inboxInfo = stat(), stateInfo = stat()
        if stat(layout.inbox, &inboxInfo) == 0, stat(layout.processing, &stateInfo) == 0,
           inboxInfo.st_dev != stateInfo.st_dev {
            throw SpoolError.setup(
                "state folder \(layout.state) is not on the same filesystem as the inbox \(layout.inbox); "
                    + "claiming needs an atomic rename between them: put state next to the inbox")
        }
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw SpoolError.setup(SystemError("open", layout.lockFile).description)
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw SpoolError.setup(
                "another infill serve is already using the spool \(layout.state) (lock \(layout.lockFile) is held)")
        }
        lockDescriptor.withLock { $0 = fd }
        // Staging files of a run that was killed mid-write: never published, safe to drop now that
        // this daemon holds the lock. Their documents are still claimed and will be redone.
        for folder in [layout.outboxTemporary, layout.failedTemporary] {
            for name in (try? FileOperations.list(folder)) ?? [] {
                try? FileOperations.remove(folder + "/" + name)
            }
        }
    }

    /// The inbox's candidate files (regular, not ignored), in name order.
    public func inboxNames() throws(SpoolError) -> [String] {
        do {
            return try FileOperations.list(layout.inbox)
                .filter { !SpoolLayout.isIgnored($0) }
                .filter { FileOperations.stamp(layout.inbox + "/" + $0)?.isRegularFile ?? false }
                .sorted()
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Files left in `processing/` by a crash or a kill: to be processed again.
    public func leftoverClaims() throws(SpoolError) -> [String] {
        do {
            return try FileOperations.list(layout.processing)
                .filter { FileOperations.stamp(layout.processing + "/" + $0)?.isRegularFile ?? false }
                .sorted()
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// The size and mtime of an inbox file, or nil when it is gone.
    public func inboxStamp(_ name: String) -> FileStamp? {
        FileOperations.stamp(layout.inbox + "/" + name)
    }

    /// The outcome of a claim.
    public enum Claim: Equatable, Sendable {
        /// The file is now in `processing/` and belongs to this worker.
        case claimed
        /// The file vanished (another claimer won, or the writer removed it): not an error.
        case gone
        /// A file of the same name is still being processed; try again later.
        case busy
    }

    /// Claims an inbox file by renaming it into `processing/`.
    public func claim(_ name: String) throws(SpoolError) -> Claim {
        do {
            switch try FileOperations.renameNoReplace(layout.inbox + "/" + name, layout.processing + "/" + name) {
            case .renamed: return .claimed
            case .sourceMissing: return .gone
            case .targetExists: return .busy
            }
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// The bytes of a claimed file.
    public func readClaimed(_ name: String) throws(SpoolError) -> [UInt8] {
        do {
            return try FileOperations.read(layout.processing + "/" + name)
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Where a committed document went.
    public struct Commit: Equatable, Sendable {
        /// The document's name in the outbox (the wanted name, or `stem-N.ext` after a clash).
        public var documentName: String
        /// True when an identical document was already there (a re-run after a crash).
        public var alreadyPresent: Bool
    }

    /// Writes the document (and its report) into the outbox atomically, then releases the claim.
    ///
    /// A name already taken by identical bytes is reused (idempotent re-run); one taken by a
    /// different document is never overwritten: the output gets `stem-1.ext`, `stem-2.ext`, ….
    public func commit(_ name: String, _ result: ProcessedDocument) throws(SpoolError) -> Commit {
        guard Self.isPlainName(result.outputName) else {
            throw SpoolError.badOutputName(result.outputName)
        }
        let commit: Commit
        do {
            commit = try outboxLock.withLock { _ throws(SystemError) -> Commit in
                var n = 0
                var chosen = result.outputName
                var present = false
                while true {
                    chosen = SpoolLayout.alternative(result.outputName, n)
                    let path = layout.outbox + "/" + chosen
                    guard let stamp = FileOperations.stamp(path) else { break }
                    if stamp.isRegularFile, stamp.size == Int64(result.document.count),
                       (try? FileOperations.read(path)) == result.document {
                        present = true
                        break
                    }
                    n += 1
                }
                // The report lands first, so whoever sees the document also finds its report.
                if let report = result.report {
                    try publish(report, as: chosen + ".report.json", in: layout.outbox, via: layout.outboxTemporary)
                }
                if !present {
                    try publish(result.document, as: chosen, in: layout.outbox, via: layout.outboxTemporary)
                }
                FileOperations.syncDirectory(layout.outbox)
                return Commit(documentName: chosen, alreadyPresent: present)
            }
        } catch {
            throw SpoolError.io(error)
        }
        try release(name)
        return commit
    }

    /// Moves a claimed input to `failed/` next to a `NAME.error.json` that says why.
    ///
    /// Returns the name it got in `failed/` (`stem-N.ext` if the name was taken).
    public func fail(_ name: String, _ failure: DocumentFailure, attempts: Int) throws(SpoolError) -> String {
        let report = ErrorReport(failure: failure, document: name, attempts: attempts)
        do {
            return try failedLock.withLock { _ throws(SystemError) -> String in
                var n = 0
                while FileOperations.exists(layout.failed + "/" + SpoolLayout.alternative(name, n)) { n += 1 }
                let chosen = SpoolLayout.alternative(name, n)
                // The reason is written before the input moves: a crash in between leaves the input
                // claimed (it is retried), never a failed input without its reason.
                try publish(report.json(), as: chosen + ".error.json", in: layout.failed, via: layout.failedTemporary)
                try FileOperations.rename(layout.processing + "/" + name, layout.failed + "/" + chosen)
                FileOperations.syncDirectory(layout.failed)
                return chosen
            }
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Returns a claimed input to the inbox (shutdown before it was done); a new file of the same
    /// name that arrived meanwhile is not replaced: the returned file then gets `stem-N.ext`.
    public func putBack(_ name: String) throws(SpoolError) -> String {
        do {
            var n = 0
            while true {
                let target = SpoolLayout.alternative(name, n)
                switch try FileOperations.renameNoReplace(layout.processing + "/" + name, layout.inbox + "/" + target) {
                case .renamed:
                    FileOperations.syncDirectory(layout.inbox)
                    return target
                case .sourceMissing: return name
                case .targetExists: n += 1
                }
            }
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Removes a committed input from `processing/` (or keeps it in `done/`).
    private func release(_ name: String) throws(SpoolError) {
        do {
            let claimed = layout.processing + "/" + name
            if keepDone {
                try FileOperations.rename(claimed, layout.done + "/" + name)
            } else {
                try FileOperations.remove(claimed)
            }
            FileOperations.syncDirectory(layout.processing)
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Writes `bytes` to `temporary/NAME.PID`, fsyncs, and renames it to `folder/NAME`.
    private func publish(_ bytes: [UInt8], as name: String, in folder: String, via temporary: String) throws(SystemError) {
        let staging = temporary + "/" + name + "." + String(getpid())
        try FileOperations.writeDurably(bytes, to: staging)
        do {
            try FileOperations.rename(staging, folder + "/" + name)
        } catch {
            try? FileOperations.remove(staging)
            throw error
        }
    }

    /// True for a name that stays inside its folder: no slash, not empty, `.` or `..`.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}

/// What `failed/NAME.error.json` holds: `{error, file, line, column, hint}` plus the document name
/// and the number of attempts.
struct ErrorReport: Encodable {
    var failure: DocumentFailure
    var document: String
    var attempts: Int

    enum CodingKeys: String, CodingKey { case error, file, line, column, hint, document, attempts }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(failure.message, forKey: .error)
        try container.encode(failure.file, forKey: .file)
        try container.encode(failure.line, forKey: .line)
        try container.encode(failure.column, forKey: .column)
        try container.encode(failure.hint, forKey: .hint)
        try container.encode(document, forKey: .document)
        try container.encode(attempts, forKey: .attempts)
    }

    func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Strings, optionals and ints always encode; the fallback is unreachable in practice.
        let data = (try? encoder.encode(self)) ?? Data("{\"error\":\"unencodable error report\"}".utf8)
        return Array(data) + [0x0A]
    }
}
