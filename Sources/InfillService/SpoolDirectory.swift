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
    /// Numbers the staging files of this process.
    private let stagingCounter = Atomic<Int>(0)
    /// Test seam: the next publishes into the outbox fail with this errno (count, code).
    private let injectedOutboxFailures = Mutex<(count: Int, code: Int32)>((0, 0))

    public init(layout: SpoolLayout, keepDone: Bool = false) {
        self.layout = layout
        self.keepDone = keepDone
    }

    deinit {
        lockDescriptor.withLock { if $0 >= 0 { close($0) } }
    }

    /// Creates the folders, checks that everything renamed between them shares a filesystem, takes
    /// the spool lock so a second daemon cannot work on the same spool, and drops the staging files
    /// of a run that was killed mid-write.
    public func prepare() throws(SpoolError) {
        do {
            // The inbox is group-writable and setgid where the systemd guide sets it up; only
            // create it here, never change an existing folder's mode.
            try FileOperations.makeDirectories(layout.inbox)
            for path in [layout.outbox, layout.failed, layout.state] {
                try FileOperations.makeDirectories(path)
            }
            for path in [layout.processing, layout.staging, layout.attempts, layout.commits, layout.quarantine]
                + (keepDone ? [layout.done] : []) {
                try FileOperations.makeDirectories(path, mode: 0o700)
            }
        } catch {
            throw SpoolError.setup(error.description)
        }
        // The daemon removes files in these: a link in place of one could lead anywhere.
        for path in [layout.processing, layout.staging, layout.attempts, layout.commits]
        where !FileOperations.isRealDirectory(path) {
            throw SpoolError.setup(
                "\(path) is not a directory (a symbolic link or another file is in its place); "
                    + "remove it and start again")
        }
        try requireSameFilesystem()
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
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
        do {
            try FileOperations.removeFiles(in: layout.staging)
        } catch {
            throw SpoolError.setup(error.description)
        }
        // Counts and journals of documents that are no longer claimed (a crash between release
        // and clean-up).
        let claimed = Set((try? FileOperations.list(layout.processing)) ?? [])
        for folder in [layout.attempts, layout.commits] {
            for name in (try? FileOperations.list(folder)) ?? [] where !claimed.contains(name) {
                try? FileOperations.remove(folder + "/" + name)
            }
        }
    }

    /// Claims and commits are renames: the folders involved must share a filesystem.
    private func requireSameFilesystem() throws(SpoolError) {
        let pairs: [(String, String, String)] = [
            (layout.inbox, layout.processing, "claiming"),
            (layout.outbox, layout.staging, "publishing an output"),
            (layout.failed, layout.staging, "failing a document"),
            (layout.quarantine, layout.processing, "quarantining a document"),
        ]
        for (folder, state, what) in pairs {
            if let a = FileOperations.device(folder), let b = FileOperations.device(state), a != b {
                throw SpoolError.setup(
                    "\(folder) is not on the same filesystem as the state folder \(layout.state); "
                        + "\(what) needs an atomic rename between them: put them on one filesystem")
            }
        }
    }

    /// What an inbox scan found.
    public struct InboxScan: Sendable, Equatable {
        /// Candidate files (regular, not ignored), in name order.
        public var names: [String]
        /// Names that are not UTF-8 (not ignored), as raw bytes: they cannot be filled, only reported.
        public var undecodable: [[UInt8]]
    }

    /// The inbox's candidate files (regular, not ignored), in name order.
    public func inboxNames() throws(SpoolError) -> [String] {
        try scanInbox().names
    }

    /// The inbox's candidate files, and the names that are not UTF-8.
    public func scanInbox() throws(SpoolError) -> InboxScan {
        let entries: [FileOperations.DirectoryEntry]
        do {
            entries = try FileOperations.entries(layout.inbox)
        } catch {
            throw SpoolError.io(error)
        }
        var scan = InboxScan(names: [], undecodable: [])
        for entry in entries {
            if let name = entry.name {
                if !SpoolLayout.isIgnored(name), FileOperations.stamp(layout.inbox + "/" + name)?.isRegularFile ?? false {
                    scan.names.append(name)
                }
            } else if !SpoolLayout.isIgnored(SpoolLayout.escaped(entry.bytes)),
                      inboxStamp(entry.bytes)?.isRegularFile ?? false {
                scan.undecodable.append(entry.bytes)
            }
        }
        scan.names.sort()
        scan.undecodable.sort { $0.lexicographicallyPrecedes($1) }
        return scan
    }

    /// Everything left in `processing/` by a crash or a kill: to be processed again (what is not a
    /// regular file is refused when it is read, and so reaches `failed/`).
    public func leftoverClaims() throws(SpoolError) -> [String] {
        do {
            return try FileOperations.list(layout.processing).sorted()
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// The size and mtime of an inbox file, or nil when it is gone.
    public func inboxStamp(_ name: String) -> FileStamp? {
        FileOperations.stamp(layout.inbox + "/" + name)
    }

    /// ``inboxStamp(_:)`` for a name that is not UTF-8, given as raw bytes.
    public func inboxStamp(_ name: [UInt8]) -> FileStamp? {
        FileOperations.stamp(Array((layout.inbox + "/").utf8) + name)
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

    /// The bytes of a claimed file: refused (``SpoolError/refused(_:_:)``) when it is not a regular
    /// file or larger than `limit` bytes, which is checked before anything is read.
    public func readClaimed(_ name: String, limit: Int = ServiceConfiguration.defaultMaxInputBytes) throws(SpoolError) -> [UInt8] {
        try InputFile.read(layout.processing + "/" + name, limit: limit)
    }

    // MARK: - Attempts across restarts

    /// How many earlier runs started the claimed document `name` and never finished it (0 when
    /// none did). Read before the work starts; see ``recordStart(_:count:)``.
    public func unfinishedStarts(_ name: String) -> Int {
        guard let bytes = try? FileOperations.read(layout.attempts + "/" + name),
              let count = Int(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return 0 }
        return max(0, count)
    }

    /// Persists (fsynced) that `count` runs have now started `name`, before the work begins: a run
    /// that is killed while filling it leaves the count behind for the next start to see.
    /// `fresh`: a new claim from the inbox, whose name may carry a stale journal.
    public func recordStart(_ name: String, count: Int, fresh: Bool = false) throws(SpoolError) {
        if fresh { clearJournal(name) }
        do {
            try publish(Array("\(count)\n".utf8), as: name, in: layout.attempts, replacing: true)
            FileOperations.syncDirectory(layout.attempts)
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Forgets the start count and the journal of a document that finished (committed, failed,
    /// put back).
    private func clearAttempts(_ name: String) {
        try? FileOperations.remove(layout.attempts + "/" + name)
        clearJournal(name)
    }

    // MARK: - Commit journal

    /// The name an earlier run of this claim chose in `folder`, if it got as far as choosing one.
    private func journaled(_ name: String, in folder: String) -> String? {
        guard let bytes = try? FileOperations.read(layout.commits + "/" + name) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2, lines[0] == folder, !lines[1].isEmpty else { return nil }
        return String(lines[1])
    }

    /// Records (fsynced) that the claim `name` is about to be published as `folder/chosen`.
    private func journal(_ name: String, folder: String, chosen: String) throws(SystemError) {
        try publish(Array("\(folder)\n\(chosen)\n".utf8), as: name, in: layout.commits, replacing: true)
        FileOperations.syncDirectory(layout.commits)
    }

    private func clearJournal(_ name: String) {
        try? FileOperations.remove(layout.commits + "/" + name)
    }

    // MARK: - Commit, fail, quarantine, put back

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
    /// The same holds for the report's name and the page's (`NAME.html`): a document that happens
    /// to be called `NAME.report.json` or `NAME.html` is never replaced either. The report and the
    /// page are each written to staging, fsynced and renamed in before the document, so whoever
    /// sees the document finds them complete, and a restart after a kill publishes them once.
    public func commit(_ name: String, _ result: ProcessedDocument) throws(SpoolError) -> Commit {
        guard Self.isPlainName(result.outputName), result.outputName.utf8.count <= SpoolLayout.maxNameBytes else {
            throw SpoolError.badOutputName(result.outputName)
        }
        let commit: Commit
        do {
            commit = try outboxLock.withLock { _ throws(SystemError) -> Commit in
                let earlier = journaled(name, in: layout.outbox)
                for n in 0..<Self.maxAlternatives {
                    let chosen = SpoolLayout.alternative(result.outputName, n)
                    let path = layout.outbox + "/" + chosen
                    let reportName = chosen + ".report.json"
                    let htmlName = chosen + ".html"
                    // Journaled by an earlier run of this very claim, which was killed mid-commit.
                    let ours = chosen == earlier
                    var present = false
                    if let stamp = FileOperations.stamp(path) {
                        if ours {
                            // That run published the document (and its report) completely: done.
                            FileOperations.syncDirectory(layout.outbox)
                            return Commit(documentName: chosen, alreadyPresent: true)
                        }
                        guard stamp.isRegularFile, stamp.size == Int64(result.document.count),
                              (try? FileOperations.read(path)) == result.document
                        else { continue }
                        present = true
                    }
                    // A new document never takes a report name that is in use by someone else.
                    if result.report != nil, !present, !ours, FileOperations.exists(layout.outbox + "/" + reportName) { continue }
                    if result.html != nil, !present, !ours, FileOperations.exists(layout.outbox + "/" + htmlName) { continue }
                    if !ours {
                        try journal(name, folder: layout.outbox, chosen: chosen)
                        Failpoint.commitAfterJournal.hit()
                    }
                    // The report lands first, so whoever sees the document also finds its report.
                    // A re-run refreshes its own report.
                    if let report = result.report {
                        guard try publish(report, as: reportName, in: layout.outbox, replacing: present || ours) else { continue }
                        // Durable before the document appears: a power cut never leaves it without.
                        FileOperations.syncDirectory(layout.outbox)
                    }
                    Failpoint.commitAfterReport.hit()
                    if let html = result.html {
                        guard try publish(html, as: htmlName, in: layout.outbox, replacing: present || ours) else {
                            if result.report != nil { try? FileOperations.remove(layout.outbox + "/" + reportName) }
                            continue
                        }
                        FileOperations.syncDirectory(layout.outbox)
                        Failpoint.commitAfterHTML.hit()
                    }
                    if !present, !(try publish(result.document, as: chosen, in: layout.outbox, replacing: false)) {
                        // Someone took the name meanwhile: take our report back and try the next.
                        if result.report != nil { try? FileOperations.remove(layout.outbox + "/" + reportName) }
                        if result.html != nil { try? FileOperations.remove(layout.outbox + "/" + htmlName) }
                        continue
                    }
                    FileOperations.syncDirectory(layout.outbox)
                    Failpoint.commitAfterDocument.hit()
                    return Commit(documentName: chosen, alreadyPresent: present)
                }
                throw SystemError("choose a free name for", layout.outbox + "/" + result.outputName, code: EEXIST)
            }
        } catch {
            throw SpoolError.io(error)
        }
        try release(name)
        return commit
    }

    /// Moves a claimed input to `failed/` next to a `NAME.error.json` that says why.
    ///
    /// Returns the name it got in `failed/` (`stem-N.ext` if the name was taken, shortened when it
    /// is too long to carry `.error.json`).
    public func fail(_ name: String, _ failure: DocumentFailure, attempts: Int) throws(SpoolError) -> String {
        try fileClaim(name, ErrorReport(failure: failure, document: name, attempts: attempts), into: layout.failed)
    }

    /// Moves a claimed input that kept killing the daemon to the quarantine folder, next to a
    /// `NAME.error.json` that says so. Returns its name there.
    public func quarantine(_ name: String, _ failure: DocumentFailure, starts: Int) throws(SpoolError) -> String {
        try fileClaim(name, ErrorReport(failure: failure, document: name, attempts: starts), into: layout.quarantine)
    }

    /// Files the claim `name` into `folder` with its error report and forgets its start count.
    private func fileClaim(_ name: String, _ report: ErrorReport, into folder: String) throws(SpoolError) -> String {
        let chosen = try failedLock.withLock { _ throws(SpoolError) -> String in
            try file(layout.processing + "/" + name, as: name, report: report.json(), into: folder, journalAs: name)
        }
        clearAttempts(name)
        return chosen
    }

    /// Moves an inbox file whose name is not UTF-8 straight to `failed/` under an escaped name
    /// (`caf%E9.md`), next to an error report that says why. Returns the name it got, or nil when
    /// the file vanished first.
    public func rejectUndecodable(_ bytes: [UInt8]) throws(SpoolError) -> String? {
        let escaped = SpoolLayout.escaped(bytes)
        let failure = DocumentFailure(
            message: "the file name is not valid UTF-8, so it cannot be filled", file: escaped,
            hint: "rename the file to a UTF-8 name and drop it again")
        let report = ErrorReport(failure: failure, document: escaped, attempts: 0)
        let source = Array((layout.inbox + "/").utf8) + bytes
        return try failedLock.withLock { _ throws(SpoolError) -> String? in
            var missing = false
            let chosen = try file(source, as: escaped, report: report.json(), into: layout.failed, journalAs: nil, sourceMissing: &missing)
            return missing ? nil : chosen
        }
    }

    private func file(
        _ source: String, as name: String, report: [UInt8], into folder: String, journalAs key: String?
    ) throws(SpoolError) -> String {
        var missing = false
        return try file(Array(source.utf8), as: name, report: report, into: folder, journalAs: key, sourceMissing: &missing)
    }

    /// Publishes `report` as `CHOSEN.error.json` in `folder`, then renames `source` to `CHOSEN`,
    /// where CHOSEN is the first free alternative of `name` (shortened to fit). The reason is
    /// written before the input moves: a crash in between leaves the input where it was (it is
    /// retried), never a failed input without its reason. Neither rename replaces anything but
    /// the claim's own error report, which the journal (under `key`) identifies after a crash.
    private func file(
        _ source: [UInt8], as name: String, report: [UInt8], into folder: String, journalAs key: String?,
        sourceMissing: inout Bool
    ) throws(SpoolError) -> String {
        let earlier = key.flatMap { journaled($0, in: folder) }
        let base = SpoolLayout.shortened(name, toBytes: SpoolLayout.maxNameBytes)
        let described = String(decoding: source, as: UTF8.self)
        do throws(SystemError) {
            for n in 0..<Self.maxAlternatives {
                let chosen = SpoolLayout.alternative(base, n)
                let target = folder + "/" + chosen
                let ours = chosen == earlier
                // The input has not moved yet, so a file at its target name is someone else's.
                if FileOperations.exists(target) || (!ours && FileOperations.exists(target + ".error.json")) { continue }
                if let key, !ours { try journal(key, folder: folder, chosen: chosen) }
                guard try publish(report, as: chosen + ".error.json", in: folder, replacing: ours) else { continue }
                // The reason is durable before the input moves next to it.
                FileOperations.syncDirectory(folder)
                Failpoint.failAfterErrorReport.hit()
                switch try FileOperations.renameNoReplace(source, target, describing: described) {
                case .renamed:
                    FileOperations.syncDirectory(folder)
                    return chosen
                case .targetExists:
                    try? FileOperations.remove(target + ".error.json")
                case .sourceMissing:
                    try? FileOperations.remove(target + ".error.json")
                    sourceMissing = true
                    return chosen
                }
            }
            throw SystemError("choose a free name for", folder + "/" + base, code: EEXIST)
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Returns a claimed input to the inbox under its own name (shutdown before it was done), so
    /// it still matches its pipeline's pattern. When a new file of that name arrived meanwhile,
    /// nothing is replaced or renamed: the claim stays in `processing/` and is requeued at the
    /// next start. Returns nil in that case.
    public func putBack(_ name: String) throws(SpoolError) -> String? {
        do {
            switch try FileOperations.renameNoReplace(layout.processing + "/" + name, layout.inbox + "/" + name) {
            case .renamed:
                FileOperations.syncDirectory(layout.inbox)
                clearAttempts(name)
                return name
            case .sourceMissing:
                clearAttempts(name)
                return name
            case .targetExists:
                // Not this document's fault: the next start should not count it as a crash.
                clearAttempts(name)
                return nil
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
        clearAttempts(name)
    }

    /// How many `stem-N.ext` alternatives are tried before giving up on a name.
    static let maxAlternatives = 10_000

    /// Writes `bytes` to a fresh file in `state/staging` (exclusive create, no links followed),
    /// fsyncs, and renames it to `folder/NAME`. Without `replacing`, an existing `folder/NAME` is
    /// left alone and false is returned.
    @discardableResult
    func publish(_ bytes: [UInt8], as name: String, in folder: String, replacing: Bool) throws(SystemError) -> Bool {
        if folder == layout.outbox, let code = takeInjectedFailure() {
            throw SystemError("write", folder + "/" + name, code: code)
        }
        let staging = try stage(bytes)
        do {
            if replacing {
                try FileOperations.rename(staging, folder + "/" + name)
                return true
            }
            switch try FileOperations.renameNoReplace(staging, folder + "/" + name) {
            case .renamed: return true
            case .targetExists, .sourceMissing:
                try? FileOperations.remove(staging)
                return false
            }
        } catch {
            try? FileOperations.remove(staging)
            throw error
        }
    }

    /// Makes the next `count` publishes into the outbox fail with `code` (tests: disk full).
    func injectOutboxFailures(_ count: Int, code: Int32) {
        injectedOutboxFailures.withLock { $0 = (count, code) }
    }

    private func takeInjectedFailure() -> Int32? {
        injectedOutboxFailures.withLock { state in
            guard state.count > 0 else { return nil }
            state.count -= 1
            return state.code
        }
    }

    /// Writes `bytes` durably to a new, uniquely named file in the staging folder; returns its path.
    func stage(_ bytes: [UInt8]) throws(SystemError) -> String {
        while true {
            let number = stagingCounter.add(1, ordering: .relaxed).newValue
            let path = layout.staging + "/\(getpid())-\(number)"
            do {
                try FileOperations.writeDurably(bytes, to: path)
                return path
            } catch where error.code == EEXIST {
                continue  // a leftover of an earlier process with the same pid
            }
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
