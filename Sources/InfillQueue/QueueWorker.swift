import Foundation
import InfillService
import Logging
import PostgresNIO

/// One slot of the `work` role: claims a job, fills it on its own thread while renewing the lease,
/// and stores the document (or the error) in the statement that marks the job finished.
///
/// A transient failure is queued again with the local spool's backoff until `max_attempts`; a
/// permanent one, or one out of attempts, is dead-lettered (`failed`), as is a job whose lease ran
/// out `quarantine_after` times (it keeps killing the workers that take it).
struct QueueWorker: Sendable {
    let service: QueueService
    let slot: Int

    private var options: QueueOptions { service.options }
    private var logger: Logger { service.logger }

    /// Runs until the service stops; in batch mode returns once nothing is queued or running.
    func run() async {
        guard let processor = service.processor else { return }
        let link = QueueLink(address: options.address, logger: logger)
        await loop(link, processor: processor)
        await link.close()
    }

    private func loop(_ link: QueueLink, processor: any DocumentProcessor) async {
        var backoff = Backoff()
        let owner = options.owner, lease = options.leaseSeconds, logger = self.logger
        while !service.isStopping {
            let job: ClaimedJob?
            do {
                job = try await link.run { try await JobStore.claim($0, owner: owner, lease: lease, logger: logger) }
                if backoff.failures > 0 { logger.notice("queue reachable again", metadata: ["queue": "\(options.address)"]) }
                backoff.reset()
            } catch {
                await pause(after: error, &backoff, doing: "claim a job")
                continue
            }
            guard let job else {
                if options.once, await queueIsDrained(link) { return }
                do { try await Task.sleep(for: .milliseconds(options.pollMilliseconds)) } catch { return }
                continue
            }
            await handle(job, processor: processor, link: link)
        }
    }

    private func handle(_ job: ClaimedJob, processor: any DocumentProcessor, link: QueueLink) async {
        let started = QueueService.now()
        let attempt = max(1, job.attempts - job.lost)
        logger.debug("claimed", metadata: ["document": "\(job.name)", "job": "\(job.id)", "attempt": "\(attempt)"])
        if job.lost >= options.quarantineAfter {
            let failure = DocumentFailure(
                message: "the workers holding this document stopped \(job.lost) times before finishing it "
                    + "(killed, crashed or out of memory), so it was not started again",
                file: job.name,
                hint: "check the workers' logs and the document's size and pipeline; 'infill queue retry' tries it again")
            if await store(job, link: link, what: "dead-letter", {
                try await JobStore.fail($0, job, failure, attempts: job.attempts, by: $1, quarantined: true, logger: $2)
            }) {
                logger.error("document quarantined", metadata: ["document": "\(job.name)", "result": "quarantined", "lost": "\(job.lost)"])
                service.metrics.quarantined.increment()
                service.counters.withLock { $0.deadLettered += 1 }
            }
            return
        }
        let work = InFlightWork<Result<ProcessedDocument, DocumentFailure>>()
        service.track(work, slot: slot)
        let progress = service.progress, forwardPasses = service.metrics.forwardPasses, name = job.name
        progress.begin(name, worker: slot, pipeline: job.pipeline, attempt: attempt, now: started)
        defer {
            progress.remove(name)
            service.untrack(slot: slot)
        }
        let renewal = Task { await renewLease(job, link: link, work: work) }
        let deadline = options.documentTimeoutSeconds > 0 ? Task {
            try await Task.sleep(for: .milliseconds(Int64(options.documentTimeoutSeconds * 1000)))
            work.abandon(.deadline)
        } : nil
        let outcome = await work.run {
            let handler = progress.handler(for: name, countingInto: forwardPasses, isWanted: { work.isWanted })
            do {
                return .success(try processor.process(name: job.name, contents: job.contents, progress: handler))
            } catch let failure as DocumentFailure {
                return .failure(failure)
            } catch {
                return .failure(DocumentFailure(message: "\(error)", file: job.name))
            }
        }
        renewal.cancel()
        deadline?.cancel()
        let seconds = String(format: "%.2f", Double(QueueService.now() - started) / 1e9)
        switch outcome {
        case nil where work.abandonReason == .deadline:
            let limit = String(format: "%g", options.documentTimeoutSeconds)
            let failure = DocumentFailure(
                message: "filling took longer than document_timeout_s (\(limit) s) and was given up", file: job.name,
                hint: "use fewer fields, steps or candidates, or raise document_timeout_s in infill.yaml")
            await settle(job, failure, attempt: attempt, link: link, seconds: seconds)
        case nil where service.leaseLost(slot: slot):
            logger.warning("lease lost; another worker has the document now", metadata: ["document": "\(job.name)", "job": "\(job.id)"])
        case nil:
            await store(job, link: link, what: "give back") { connection, _, logger in try await JobStore.release(connection, job, logger: logger) }
            logger.notice("document given back to the queue", metadata: ["document": "\(job.name)", "result": "put back", "reason": "stop timeout"])
        case .success(let document)?:
            guard SpoolDirectory.isPublishable(document.outputName) else {
                let failure = DocumentFailure(message: SpoolError.badOutputName(document.outputName).description, file: job.name)
                await settle(job, failure, attempt: attempt, link: link, seconds: seconds)
                return
            }
            if await store(job, link: link, what: "store the document", { try await JobStore.complete($0, job, document, by: $1, logger: $2) }) {
                logger.info("document done", metadata: [
                    "document": "\(job.name)", "pipeline": "\(document.pipeline)", "seconds": "\(seconds)",
                    "result": "done", "job": "\(job.id)",
                ])
                service.metrics.done.increment()
                service.metrics.documentSeconds.recordNanoseconds(QueueService.now() - started)
                service.counters.withLock { $0.filled += 1 }
            }
        case .failure(let failure)?:
            await settle(job, failure, attempt: attempt, link: link, seconds: seconds)
        }
    }

    /// A failed attempt: queued again after the backoff when transient and attempts are left,
    /// dead-lettered otherwise.
    private func settle(_ job: ClaimedJob, _ failure: DocumentFailure, attempt: Int, link: QueueLink, seconds: String) async {
        var failure = failure
        if !failure.isPermanent {
            if let delay = options.retry.delayMilliseconds(afterAttempt: attempt) {
                let message = failure.description
                if await store(job, link: link, what: "queue a retry", { connection, _, logger in
                    try await JobStore.retry(connection, job, delayMilliseconds: delay, error: message, logger: logger)
                }) {
                    logger.warning("document will be retried", metadata: [
                        "document": "\(job.name)", "seconds": "\(seconds)", "result": "retry", "attempt": "\(attempt)",
                        "delay_ms": "\(delay)", "error": "\(failure)",
                    ])
                    service.metrics.retried.increment()
                }
                return
            }
            failure.message += " (gave up after \(attempt) attempts)"
            failure.isPermanent = true
        }
        let stored = failure
        if await store(job, link: link, what: "store the failure", {
            try await JobStore.fail($0, job, stored, attempts: attempt, by: $1, logger: $2)
        }) {
            logger.error("document failed", metadata: [
                "document": "\(job.name)", "seconds": "\(seconds)", "result": "failed", "error": "\(failure)",
            ])
            service.metrics.failed.increment()
            service.counters.withLock { $0.deadLettered += 1 }
        }
    }

    /// Runs one finishing statement until it succeeds (reconnecting through outages) or the lease
    /// is found lost; gives up when the daemon stops (the lease then runs out and another worker
    /// redoes the job). True when the statement changed the job.
    @discardableResult
    private func store(
        _ job: ClaimedJob, link: QueueLink, what: String,
        _ statement: @escaping @Sendable (PostgresConnection, String, Logger) async throws -> Bool
    ) async -> Bool {
        var backoff = Backoff()
        let owner = options.owner, logger = self.logger
        while true {
            do {
                let changed = try await link.run { try await statement($0, owner, logger) }
                if !changed {
                    logger.warning("lease lost before the result was stored; another worker has the document now",
                                   metadata: ["document": "\(job.name)", "job": "\(job.id)"])
                }
                return changed
            } catch {
                if service.isStopping && backoff.failures >= 3 { return false }
                await pause(after: error, &backoff, doing: what)
            }
        }
    }

    /// Renews the lease every third of its length while the work runs; abandons the work when the
    /// lease turns out to be another worker's.
    private func renewLease(_ job: ClaimedJob, link: QueueLink, work: InFlightWork<Result<ProcessedDocument, DocumentFailure>>) async {
        let lease = options.leaseSeconds, logger = self.logger
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(Int64(lease * 1000 / 3))) } catch { return }
            do {
                let held = try await link.run { try await JobStore.renew($0, job, lease: lease, logger: logger) }
                if !held {
                    service.markLeaseLost(slot: slot)
                    work.abandon()
                    return
                }
            } catch {
                // The server is away: keep working; the result is stored once it is back, unless
                // the lease ran out and another worker took the job meanwhile.
                logger.debug("cannot renew the lease", metadata: ["document": "\(job.name)", "error": "\(QueueDiagnosis.describe(error))"])
            }
        }
    }

    private func queueIsDrained(_ link: QueueLink) async -> Bool {
        let logger = self.logger
        guard let pending = try? await link.run({ try await JobStore.pending($0, logger: logger) }) else { return false }
        return pending.unfinished == 0
    }

    private func pause(after error: any Error, _ backoff: inout Backoff, doing what: String) async {
        let delay = backoff.next()
        if backoff.failures == 1 || backoff.failures % 20 == 0 {
            logger.warning("queue unreachable; retrying with backoff", metadata: [
                "queue": "\(options.address)", "while": "\(what)", "error": "\(QueueDiagnosis.describe(error))",
                "retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
            ])
        }
        try? await Task.sleep(for: delay)
    }
}
