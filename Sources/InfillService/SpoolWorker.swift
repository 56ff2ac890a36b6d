import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One worker's path through a document: claim it (rename into `processing/`), fill it with the
/// ``DocumentProcessor`` on a dedicated thread, then commit it to the outbox, or retry, fail or
/// quarantine it (`SpoolWorker+Settle.swift`).
///
/// ``SpoolService`` runs ``run(_:)`` once per worker of the pool; all of them share this value,
/// which holds no state of its own (the ``Dispatcher`` and the ``SpoolDirectory`` do).
struct SpoolWorker: Sendable {
    let spool: SpoolDirectory
    let processor: any DocumentProcessor
    let options: SpoolServiceOptions
    let dispatcher: Dispatcher
    let progress: ProgressBoard
    let metrics: ServiceMetrics
    let logger: Logger

    /// Takes jobs from the queue until it closes (shutdown, or the end of a batch).
    func run(_ worker: Int) async {
        while let job = await dispatcher.next() {
            await handle(job, worker: worker)
        }
    }

    /// Claim → process → commit, or settle the failure.
    private func handle(_ job: SpoolJob, worker: Int) async {
        let name = job.name
        if !job.claimed, await !claim(name) { return }
        let work = InFlightWork<ProcessOutcome>()
        guard await dispatcher.started(name, work: work) else {
            putBack(name, reason: "shutdown")
            return
        }
        let started = SystemdNotifier.monotonicNanoseconds()
        progress.begin(name, worker: worker, pipeline: job.pipeline, attempt: job.attempt, now: started)
        defer { progress.remove(name) }
        logger.debug("claimed", metadata: ["document": "\(name)", "pipeline": "\(job.pipeline)", "attempt": "\(job.attempt)"])
        if name.utf8.count > SpoolLayout.maxNameBytes {
            let failure = DocumentFailure(
                message: "the file name is \(name.utf8.count) bytes long; at most \(SpoolLayout.maxNameBytes) are allowed",
                file: name, hint: "rename the file to a shorter name and drop it again")
            await settle(job, failure, pipeline: job.pipeline, timing: "0.00")
            return
        }
        if job.attempt == 1, await quarantinedInstead(job) { return }
        let outcome = await process(name, work: work)
        progress.remove(name)
        let seconds = Double(SystemdNotifier.monotonicNanoseconds() - started) / 1e9
        let timing = String(format: "%.2f", seconds)
        switch outcome {
        case nil where work.abandonReason == .deadline:
            let limit = String(format: "%g", options.documentTimeoutSeconds)
            let failure = DocumentFailure(
                message: "filling took longer than document_timeout_s (\(limit) s) and was given up", file: name,
                hint: "use fewer fields, steps or candidates, or raise document_timeout_s in infill.yaml")
            await settle(job, failure, pipeline: job.pipeline, timing: timing)
        case nil:
            putBack(name, reason: "stop timeout")
            await dispatcher.finished(name, result: .putBack)
        case .processed(let document):
            await commit(job, document, started: started, timing: timing)
        case .failed(let failure):
            await settle(job, failure, pipeline: job.pipeline, timing: timing)
        }
    }

    /// Renames an inbox file into `processing/`; false (and the job dropped) when it is gone, held
    /// by another daemon, cannot be claimed, or the daemon stopped accepting.
    private func claim(_ name: String) async -> Bool {
        guard await dispatcher.accepting else {
            await dispatcher.dropped(name)
            return false
        }
        do {
            switch try spool.claim(name) {
            case .claimed:
                return true
            case .gone, .busy:
                await dispatcher.dropped(name)
                return false
            }
        } catch {
            logger.error("cannot claim document", metadata: ["document": "\(name)", "error": "\(error)"])
            await dispatcher.dropped(name)
            return false
        }
    }

    /// Reads the claimed input and fills it on `work`'s thread, giving it up at the document
    /// timeout; nil when the work was abandoned (deadline or stop timeout).
    private func process(_ name: String, work: InFlightWork<ProcessOutcome>) async -> ProcessOutcome? {
        do {
            let contents = try spool.readClaimed(name, limit: options.maxInputBytes)
            let processor = self.processor, progress = self.progress, forwardPasses = metrics.forwardPasses
            let timeout = options.documentTimeoutSeconds
            // The deadline gives the work up; the processor sees isWanted turn false.
            let deadline = timeout > 0 ? Task {
                try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                work.abandon(.deadline)
            } : nil
            defer { deadline?.cancel() }
            return await work.run {
                let handler = progress.handler(for: name, countingInto: forwardPasses, isWanted: { work.isWanted })
                do {
                    return .processed(try processor.process(name: name, contents: contents, progress: handler))
                } catch let failure as DocumentFailure {
                    return .failed(failure)
                } catch {
                    return .failed(DocumentFailure(message: "\(error)", file: name))
                }
            }
        } catch SpoolError.refused(_, let refusal) {
            return .failed(DocumentFailure(message: refusal.description, file: name, hint: refusal.hint))
        } catch {
            return .failed(DocumentFailure(
                message: "cannot read the document: \(error)", file: name,
                hint: "the daemon's user must be able to read files dropped into the inbox",
                isPermanent: error.isPermanent))
        }
    }

    /// Publishes a filled document through the commit journal; a write that fails is settled
    /// like any failure (a full disk is deferred, never failed for good).
    private func commit(_ job: SpoolJob, _ document: ProcessedDocument, started: Int64, timing: String) async {
        let name = job.name
        do {
            let commit = try spool.commit(name, document)
            logger.info("document done", metadata: [
                "document": "\(name)", "pipeline": "\(document.pipeline)", "seconds": "\(timing)",
                "result": "\(commit.alreadyPresent ? "done (identical output already present)" : "done")",
                "output": "\(commit.documentName)",
            ])
            metrics.done.increment()
            metrics.documentSeconds.recordNanoseconds(SystemdNotifier.monotonicNanoseconds() - started)
            await dispatcher.finished(name, result: .done)
        } catch {
            let failure = DocumentFailure(
                message: "cannot write the output: \(error)", file: name,
                hint: !error.isPermanent ? "free disk space in the outbox's filesystem" : nil,
                isPermanent: error.isPermanent)
            // Disk full or over quota is the spool's trouble, not the document's: deferred
            // with a long backoff until it goes away, never failed for it.
            await settle(job, failure, pipeline: document.pipeline, timing: timing, deferring: !error.isPermanent)
        }
    }
}
