import Logging

/// What becomes of a document that was not committed: a retry after a backoff, `failed/`, the
/// quarantine, or back into the inbox.
extension SpoolWorker {
    /// A failed attempt: retry with backoff when transient and attempts are left, else fail.
    /// `deferring`: the spool's own trouble (disk full), retried without a limit.
    func settle(_ job: SpoolJob, _ failure: DocumentFailure, pipeline: String, timing: String, deferring: Bool = false) async {
        var failure = failure
        if !failure.isPermanent {
            let retry = options.retry
            if let delay = deferring ? retry.deferralDelayMilliseconds(afterAttempt: job.attempt) : retry.delayMilliseconds(afterAttempt: job.attempt) {
                logger.warning("document will be retried", metadata: [
                    "document": "\(job.name)", "pipeline": "\(pipeline)", "seconds": "\(timing)",
                    "result": "retry", "attempt": "\(job.attempt)", "delay_ms": "\(delay)", "error": "\(failure)",
                ])
                metrics.retried.increment()
                await dispatcher.finished(job.name, result: .retrying)
                let next = SpoolJob(name: job.name, pipeline: job.pipeline, claimed: true, attempt: job.attempt + 1)
                let dispatcher = self.dispatcher
                Task {
                    try? await Task.sleep(for: .milliseconds(delay))
                    await dispatcher.retryDue(next)
                }
                return
            }
            failure.message += " (gave up after \(job.attempt) attempts)"
            failure.isPermanent = true
        }
        do {
            let failedName = try spool.fail(job.name, failure, attempts: job.attempt)
            logger.error("document failed", metadata: [
                "document": "\(job.name)", "pipeline": "\(pipeline)", "seconds": "\(timing)", "result": "failed",
                "failed_as": "\(failedName)", "error": "\(failure)",
            ])
            metrics.failed.increment()
        } catch {
            // The input stays in processing/ and is tried again on the next start.
            logger.critical("cannot move a failed document to failed/; it stays in processing/", metadata: [
                "document": "\(job.name)", "pipeline": "\(pipeline)", "result": "failed", "error": "\(failure)",
                "spool_error": "\(error)",
            ])
        }
        await dispatcher.finished(job.name, result: .failed)
    }

    /// Moves a claimed document back into the inbox under its own name (shutdown, stop timeout).
    func putBack(_ name: String, reason: String) {
        do {
            if let back = try spool.putBack(name) {
                logger.notice("document put back into the inbox", metadata: ["document": "\(name)", "as": "\(back)", "result": "put back", "reason": "\(reason)"])
            } else {
                logger.notice("a new file of the same name is in the inbox; the document stays in processing/ for the next start",
                              metadata: ["document": "\(name)", "result": "kept claimed", "reason": "\(reason)"])
            }
        } catch {
            logger.critical("cannot put a document back; it stays in processing/ and is requeued on the next start",
                            metadata: ["document": "\(name)", "error": "\(error)"])
        }
    }

    /// Counts this start on disk before the work begins; a document that earlier runs started
    /// ``SpoolServiceOptions/quarantineAfter`` times without finishing (each time the daemon was
    /// killed while on it) is moved to the quarantine instead. True when it was quarantined.
    func quarantinedInstead(_ job: SpoolJob) async -> Bool {
        let name = job.name
        // A fresh claim has no history: a count left by an unrelated document of that name is stale.
        let previous = job.claimed ? spool.unfinishedStarts(name) : 0
        if previous >= options.quarantineAfter {
            let failure = DocumentFailure(
                message: "the daemon stopped \(previous) times while working on this document "
                    + "(killed, crashed or out of memory), so it was not started again",
                file: name,
                hint: "check the log and the document's size and pipeline; move it back into the inbox to try again")
            do {
                let held = try spool.quarantine(name, failure, starts: previous)
                logger.error("document quarantined", metadata: [
                    "document": "\(name)", "pipeline": "\(job.pipeline)", "result": "quarantined",
                    "quarantined_as": "\(held)", "starts": "\(previous)",
                ])
                metrics.quarantined.increment()
            } catch {
                logger.critical("cannot quarantine a document; it stays in processing/", metadata: [
                    "document": "\(name)", "error": "\(error)",
                ])
            }
            await dispatcher.finished(name, result: .failed)
            return true
        }
        do {
            try spool.recordStart(name, count: previous + 1, fresh: !job.claimed)
        } catch {
            // Only the crash count is lost; the document itself is safe in processing/.
            logger.warning("cannot record the start of a document", metadata: ["document": "\(name)", "error": "\(error)"])
        }
        return false
    }
}
