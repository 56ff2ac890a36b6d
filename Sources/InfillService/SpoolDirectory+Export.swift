#if canImport(Glibc)
import Glibc
#endif

/// What a shared queue (`queue:` in infill.yaml) needs of the spool folders: reading an inbox file
/// in place, taking it once its job is stored, and publishing results that were computed elsewhere.
///
/// Every publish is idempotent: a name already holding identical bytes is reused, so an exporter
/// killed between its rename and its database update writes nothing twice when it runs again.
extension SpoolDirectory {
    /// True for an output name the outbox accepts: a plain file name of at most
    /// ``SpoolLayout/maxNameBytes`` bytes.
    public static func isPublishable(_ name: String) -> Bool {
        isPlainName(name) && name.utf8.count <= SpoolLayout.maxNameBytes
    }

    /// The bytes of an inbox file, read in place with the same checks as a claimed file (no link
    /// followed, no FIFO opened, the size checked before a byte is read).
    public func readInbox(_ name: String, limit: Int) throws(SpoolError) -> [UInt8] {
        try InputFile.read(layout.inbox + "/" + name, limit: limit)
    }

    /// Removes the inbox file `name` once its job is stored, but only when it still holds
    /// `expected`: it is claimed (renamed out of the inbox) first, and a file that a writer replaced
    /// meanwhile is put back for a later pass. True when the file is gone.
    public func takeEnqueued(_ name: String, expected: [UInt8]) throws(SpoolError) -> Bool {
        switch try claim(name) {
        case .gone: return true
        case .busy: return false
        case .claimed: break
        }
        let taken = (try? FileOperations.read(layout.processing + "/" + name)) ?? []
        guard taken == expected else {
            _ = try putBack(name)
            return false
        }
        do {
            try FileOperations.remove(layout.processing + "/" + name)
        } catch {
            throw SpoolError.io(error)
        }
        FileOperations.syncDirectory(layout.processing)
        FileOperations.syncDirectory(layout.inbox)
        return true
    }

    /// Moves an inbox file that cannot become a job (not a regular file, too large) to `failed/`
    /// next to its error report. Returns its name there, or nil when it vanished first.
    public func failInbox(_ name: String, _ failure: DocumentFailure) throws(SpoolError) -> String? {
        switch try claim(name) {
        case .gone: return nil
        case .busy: return nil
        case .claimed: return try fail(name, failure, attempts: 0)
        }
    }

    /// Publishes a document filled by any daemon of a shared queue into the outbox: the report
    /// first, then the document, each staged in `state/staging`, fsynced and renamed.
    ///
    /// A name holding identical bytes is taken as this document's own earlier export (done); one
    /// holding different bytes is never replaced: the document gets `stem-1.ext`, `stem-2.ext`, ….
    public func export(_ result: ProcessedDocument) throws(SpoolError) -> Commit {
        guard Self.isPlainName(result.outputName), result.outputName.utf8.count <= SpoolLayout.maxNameBytes else {
            throw SpoolError.badOutputName(result.outputName)
        }
        do throws(SystemError) {
            for n in 0..<Self.maxAlternatives {
                let chosen = SpoolLayout.alternative(result.outputName, n)
                let path = layout.outbox + "/" + chosen
                let reportName = chosen + ".report.json"
                var present = false
                if let stamp = FileOperations.stamp(path) {
                    guard stamp.isRegularFile, stamp.size == Int64(result.document.count),
                          (try? FileOperations.read(path)) == result.document
                    else { continue }
                    present = true
                }
                if let report = result.report {
                    // A report name held by another document's report is not ours to replace.
                    if !present, FileOperations.exists(layout.outbox + "/" + reportName) { continue }
                    guard try publish(report, as: reportName, in: layout.outbox, replacing: present) else { continue }
                    FileOperations.syncDirectory(layout.outbox)
                }
                if !present, !(try publish(result.document, as: chosen, in: layout.outbox, replacing: false)) {
                    if result.report != nil { try? FileOperations.remove(layout.outbox + "/" + reportName) }
                    continue
                }
                FileOperations.syncDirectory(layout.outbox)
                return Commit(documentName: chosen, alreadyPresent: present)
            }
            throw SystemError("choose a free name for", layout.outbox + "/" + result.outputName, code: EEXIST)
        } catch {
            throw SpoolError.io(error)
        }
    }

    /// Publishes a failed job into `failed/` (or, `quarantined`, the quarantine folder):
    /// `NAME.error.json` (`errorReport`) first, then the input's bytes as `NAME`. A name holding the
    /// same input and report is this job's own earlier export; otherwise the first free
    /// `stem-N.ext` is taken. Returns the name used.
    public func exportFailure(
        name: String, contents: [UInt8], errorReport: [UInt8], quarantined: Bool = false
    ) throws(SpoolError) -> String {
        let folder = quarantined ? layout.quarantine : layout.failed
        let base = SpoolLayout.shortened(name, toBytes: SpoolLayout.maxNameBytes)
        do throws(SystemError) {
            for n in 0..<Self.maxAlternatives {
                let chosen = SpoolLayout.alternative(base, n)
                let target = folder + "/" + chosen
                let reportPath = target + ".error.json"
                if FileOperations.exists(target) {
                    if (try? FileOperations.read(target)) == contents, (try? FileOperations.read(reportPath)) == errorReport {
                        return chosen
                    }
                    continue
                }
                if FileOperations.exists(reportPath), (try? FileOperations.read(reportPath)) != errorReport { continue }
                try publish(errorReport, as: chosen + ".error.json", in: folder, replacing: true)
                FileOperations.syncDirectory(folder)
                guard try publish(contents, as: chosen, in: folder, replacing: false) else { continue }
                FileOperations.syncDirectory(folder)
                return chosen
            }
            throw SystemError("choose a free name for", folder + "/" + base, code: EEXIST)
        } catch {
            throw SpoolError.io(error)
        }
    }
}

extension DocumentFailure {
    /// The `NAME.error.json` contents for this failure (as `failed/` holds them in the local spool).
    public func errorReport(document: String, attempts: Int) -> [UInt8] {
        ErrorReport(failure: self, document: document, attempts: attempts).json()
    }
}
