import InfillService
import Logging

/// The `export` role: writes each finished job into the outbox (document and report) or
/// `failed/` (input and `NAME.error.json`), then marks it exported, all while the job's row is
/// locked in one transaction so no other exporter writes it at the same time.
///
/// Every write is staged, fsynced and renamed; a name that already holds identical bytes is taken
/// as this job's own earlier export, so an exporter killed between its rename and its commit
/// writes nothing twice when it, or another, runs again.
struct QueueExporter: Sendable {
    let service: QueueService

    private var options: QueueOptions { service.options }
    private var logger: Logger { service.logger }

    /// Runs until the service stops; in batch mode returns once every job is finished and exported.
    func run() async {
        let link = QueueLink(address: options.address, logger: logger)
        await loop(link)
        await link.close()
    }

    private func loop(_ link: QueueLink) async {
        var backoff = Backoff()
        let spool = service.spool, logger = self.logger
        while !service.isStopping {
            let exported: Export?
            do {
                exported = try await link.transaction { connection -> Export? in
                    guard let job = try await JobStore.nextExport(connection, logger: logger) else { return nil }
                    let export = try Self.write(job, spool: spool)
                    try await JobStore.markExported(connection, id: job.id, as: export.name, logger: logger)
                    return export
                }
                backoff.reset()
            } catch {
                let delay = backoff.next()
                if backoff.failures == 1 || backoff.failures % 20 == 0 {
                    logger.warning("cannot export; retrying with backoff", metadata: [
                        "queue": "\(options.address)", "error": "\(QueueDiagnosis.describe(error))",
                    ])
                }
                try? await Task.sleep(for: delay)
                continue
            }
            guard let exported else {
                if options.once, await drained(link) { return }
                do { try await Task.sleep(for: .milliseconds(options.pollMilliseconds)) } catch { return }
                continue
            }
            service.counters.withLock { exported.failed ? ($0.exportedFailed += 1) : ($0.exportedDone += 1) }
            logger.info(exported.failed ? "failed document exported" : "document exported", metadata: [
                "document": "\(exported.document)", "job": "\(exported.id)",
                "\(exported.failed ? "failed_as" : "output")": "\(exported.name)",
                "result": "\(exported.alreadyPresent ? "already present" : "written")",
            ])
        }
    }

    /// What one export wrote.
    struct Export: Sendable {
        var id: Int64
        var document: String
        var name: String
        var failed: Bool
        var alreadyPresent: Bool
    }

    /// Writes one job's result into the outbox or failed/ (idempotently); says where it went.
    static func write(_ job: ExportableJob, spool: SpoolDirectory) throws -> Export {
        if !job.failed, let outputName = job.outputName, let document = job.document {
            let commit = try spool.export(ProcessedDocument(
                outputName: outputName, document: document, report: job.report, pipeline: job.pipeline))
            return Export(id: job.id, document: job.name, name: commit.documentName, failed: false, alreadyPresent: commit.alreadyPresent)
        }
        let report = job.errorReport ?? DocumentFailure(message: "the job failed without a stored reason", file: job.name)
            .errorReport(document: job.name, attempts: 0)
        let name = try spool.exportFailure(name: job.name, contents: job.contents, errorReport: report, quarantined: job.quarantined)
        return Export(
            id: job.id, document: job.name, name: job.quarantined ? "quarantine/" + name : name, failed: true, alreadyPresent: false)
    }

    private func drained(_ link: QueueLink) async -> Bool {
        guard service.watcherFinished else { return false }
        let logger = self.logger
        guard let pending = try? await link.run({ try await JobStore.pending($0, logger: logger) }) else { return false }
        return pending.unfinished == 0 && pending.unexported == 0
    }
}
