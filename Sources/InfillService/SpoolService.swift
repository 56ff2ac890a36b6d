import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// How a ``SpoolService`` runs: pool size, settle and rescan timing, retries, stop timeout, mode.
public struct SpoolServiceOptions: Sendable, Equatable {
    public var workers: Int
    public var settleMilliseconds: Int
    public var watch: ServiceConfiguration.WatchMode
    public var rescanMilliseconds: Int
    public var queueLimit: Int
    public var retry: RetryPolicy
    public var stopTimeoutSeconds: Double
    /// The largest input read; larger ones fail unread.
    public var maxInputBytes: Int
    /// How long one document may take before it is given up and failed; 0 = no limit.
    public var documentTimeoutSeconds: Double
    /// Unfinished starts after which a document is quarantined instead of started again.
    public var quarantineAfter: Int
    /// Batch mode: process what is in the inbox now (no settle wait), then return.
    public var once: Bool

    public init(configuration: ServiceConfiguration, once: Bool = false) {
        workers = configuration.workers
        settleMilliseconds = configuration.settleMilliseconds
        watch = configuration.watch
        rescanMilliseconds = configuration.rescanMilliseconds
        queueLimit = configuration.effectiveQueueLimit
        retry = configuration.retryPolicy
        stopTimeoutSeconds = configuration.stopTimeoutSeconds
        maxInputBytes = configuration.maxInputBytes
        documentTimeoutSeconds = configuration.documentTimeoutSeconds
        quarantineAfter = configuration.quarantineAfter
        self.once = once
    }
}

/// The daemon: watches the inbox, claims settled files, fills them on a pool of workers sharing
/// one ``DocumentProcessor``, and commits or fails each through the ``SpoolDirectory``.
///
/// Run it inside a swift-service-lifecycle `ServiceGroup`: graceful shutdown (SIGTERM) stops
/// claiming, lets in-flight documents finish within the stop timeout and puts the others back into
/// the inbox; SIGHUP reloads the pipelines (a broken spec is logged and the old ones stay).
public final class SpoolService: Service, Sendable {
    public let spool: SpoolDirectory
    public let processor: any DocumentProcessor
    public let options: SpoolServiceOptions
    public let notifier: SystemdNotifier
    /// Updated as documents finish and every tick; no-op handlers unless the HTTP endpoint is on.
    public let metrics: ServiceMetrics
    private let logger: Logger
    private let dispatcher: Dispatcher
    private let progress = ProgressBoard()
    /// What the inotify thread reported since the last tick, and the files held open.
    private let events = Mutex(InboxEvents())
    private let lastStatus = Mutex<String>("")
    private let stopping = Atomic<Bool>(false)
    private let startedAt = SystemdNotifier.monotonicNanoseconds()

    public init(
        spool: SpoolDirectory, processor: any DocumentProcessor, options: SpoolServiceOptions,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]), metrics: ServiceMetrics = .disabled,
        logger: Logger
    ) {
        self.spool = spool
        self.processor = processor
        self.options = options
        self.notifier = notifier
        self.metrics = metrics
        self.logger = logger
        self.dispatcher = Dispatcher(capacity: options.queueLimit)
    }

    /// Documents committed and failed so far (`serve --once` exits 1 when any failed).
    public var summary: (done: Int, failed: Int) {
        get async { (await dispatcher.completed, await dispatcher.failed) }
    }

    public func run() async throws {
        let leftovers = try spool.leftoverClaims()
        for name in leftovers {
            await dispatcher.requeueClaimed(job(name, claimed: true))
        }
        if !leftovers.isEmpty {
            logger.notice("requeued documents left in processing/ by an earlier run", metadata: ["count": "\(leftovers.count)"])
        }
        var watcher: InotifyWatcher?
        if options.once {
            let scan = try spool.scanInbox()
            for raw in scan.undecodable { await reject(raw) }
            await dispatcher.setSnapshot(scan.names.map { job($0, claimed: false) })
        } else if options.watch == .inotify {
            // Watch first, then scan (the first tick rescans): files that arrived before the watch
            // produce no events.
            let inotify = try InotifyWatcher(directory: spool.layout.inbox)
            inotify.start { [self] event in
                self.events.withLock { $0.record(event) }
            }
            watcher = inotify
        }
        defer { watcher?.stop() }
        // Trap SIGHUP before READY=1, so a reload right after start cannot kill the daemon.
        let hangups = options.once ? nil : await UnixSignalsSequence(trapping: .sighup)

        let status = await statusText()
        notifier.ready(status: status)
        logger.info("ready", metadata: [
            "inbox": "\(spool.layout.inbox)", "workers": "\(options.workers)",
            "mode": "\(options.once ? "once" : options.watch.rawValue)", "status": "\(status)",
        ])

        await withGracefulShutdownHandler {
            await withTaskGroup(of: Bool.self) { group in
                for worker in 0..<max(1, options.workers) {
                    group.addTask {
                        await self.workerLoop(worker)
                        return true
                    }
                }
                group.addTask {
                    await self.tickLoop()
                    return false
                }
                group.addTask {
                    await self.enforceStopTimeout()
                    return false
                }
                if let hangups {
                    group.addTask {
                        for await _ in hangups { await self.reload() }
                        return false
                    }
                }
                var workersLeft = max(1, options.workers)
                while let isWorker = await group.next() {
                    if isWorker { workersLeft -= 1 }
                    if workersLeft == 0 { group.cancelAll() }
                }
            }
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
        let (done, failed) = await summary
        await publishStatus()
        notifier.stopping()
        logger.info("stopped", metadata: ["done": "\(done)", "failed": "\(failed)"])
    }

    /// Stops claiming, puts waiting claimed documents back, and lets the stop timeout run.
    public func shutdown() async {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        notifier.stopping()
        let inFlight = await dispatcher.runningCount
        logger.info("stopping: no new documents are claimed", metadata: ["in_flight": "\(inFlight)"])
        for name in await dispatcher.stop() {
            putBack(name, reason: "shutdown")
        }
    }

    // MARK: - Workers

    private func job(_ name: String, claimed: Bool, attempt: Int = 1) -> SpoolJob {
        SpoolJob(name: name, pipeline: processor.pipelineName(forFileNamed: name), claimed: claimed, attempt: attempt)
    }

    private func workerLoop(_ worker: Int) async {
        while let job = await dispatcher.next() {
            await handle(job, worker: worker)
        }
    }

    private func handle(_ job: SpoolJob, worker: Int) async {
        let name = job.name
        if !job.claimed {
            guard await dispatcher.accepting else {
                await dispatcher.dropped(name)
                return
            }
            do {
                switch try spool.claim(name) {
                case .claimed: break
                case .gone, .busy:
                    await dispatcher.dropped(name)
                    return
                }
            } catch {
                logger.error("cannot claim document", metadata: ["document": "\(name)", "error": "\(error)"])
                await dispatcher.dropped(name)
                return
            }
        }
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
        let outcome: ProcessOutcome?
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
            outcome = await work.run {
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
            outcome = .failed(DocumentFailure(message: refusal.description, file: name, hint: refusal.hint))
        } catch {
            outcome = .failed(DocumentFailure(
                message: "cannot read the document: \(error)", file: name,
                hint: "the daemon's user must be able to read files dropped into the inbox",
                isPermanent: error.isPermanent))
        }
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
        case .failed(let failure):
            await settle(job, failure, pipeline: job.pipeline, timing: timing)
        }
    }

    /// A failed attempt: retry with backoff when transient and attempts are left, else fail.
    /// `deferring`: the spool's own trouble (disk full), retried without a limit.
    private func settle(_ job: SpoolJob, _ failure: DocumentFailure, pipeline: String, timing: String, deferring: Bool = false) async {
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

    private func putBack(_ name: String, reason: String) {
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
    private func quarantinedInstead(_ job: SpoolJob) async -> Bool {
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

    /// Moves an inbox file whose name is not UTF-8 to `failed/` under an escaped name.
    private func reject(_ raw: [UInt8]) async {
        let escaped = SpoolLayout.escaped(raw)
        do {
            guard let failedName = try spool.rejectUndecodable(raw) else { return }
            logger.error("document failed", metadata: [
                "document": "\(escaped)", "result": "failed", "failed_as": "\(failedName)",
                "error": "the file name is not valid UTF-8",
            ])
            metrics.failed.increment()
            await dispatcher.countFailure()
        } catch {
            logger.error("cannot move a file whose name is not UTF-8 to failed/", metadata: [
                "document": "\(escaped)", "error": "\(error)",
            ])
        }
    }

    /// After shutdown began, waits up to the stop timeout for in-flight documents, then abandons
    /// the rest (their workers put them back into the inbox).
    private func enforceStopTimeout() async {
        await dispatcher.waitUntilStopped()
        guard stopping.load(ordering: .acquiring) else { return }
        let deadline = SystemdNotifier.monotonicNanoseconds() + Int64(options.stopTimeoutSeconds * 1e9)
        while await dispatcher.runningCount > 0, SystemdNotifier.monotonicNanoseconds() < deadline {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
        let abandoned = await dispatcher.abandonRunning()
        if !abandoned.isEmpty {
            logger.warning("stop timeout reached; putting in-flight documents back", metadata: ["documents": "\(abandoned.joined(separator: ","))"])
        }
    }

    // MARK: - Inbox scanning, status, watchdog

    /// Every tick: take watcher events, rescan when due, settle-check candidates, queue the settled
    /// ones while there is room; then STATUS and WATCHDOG.
    private func tickLoop() async {
        var tracker = SettleTracker(settleMilliseconds: options.settleMilliseconds, capacity: max(64, options.queueLimit * 4))
        let tick = Int64(min(250, max(20, options.settleMilliseconds / 5))) * 1_000_000
        let rescanEvery = Int64(options.watch == .poll ? min(options.rescanMilliseconds, 1000) : options.rescanMilliseconds) * 1_000_000
        var lastRescan = Int64.min / 2
        var lastWatchdog = Int64.min / 2
        var scanErrorLogged = false
        /// Names that are not UTF-8, with their stamp at the previous rescan: rejected once unchanged.
        var undecodable: [[UInt8]: FileStamp] = [:]
        /// Inbox files seen but not watched yet: every slot was taken.
        var waiting: Set<String> = []
        while await dispatcher.accepting {
            let now = SystemdNotifier.monotonicNanoseconds()
            if !options.once {
                let taken = events.withLock { $0.take() }
                var names = taken.names
                if taken.rescan || now - lastRescan >= rescanEvery {
                    lastRescan = now
                    do {
                        let scan = try spool.scanInbox()
                        names.formUnion(scan.names)
                        let present = Set(scan.names)
                        tracker.keep(only: present)
                        waiting.formIntersection(present)
                        var seen: [[UInt8]: FileStamp] = [:]
                        for raw in scan.undecodable {
                            guard let stamp = spool.inboxStamp(raw) else { continue }
                            if undecodable[raw] == stamp { await reject(raw) } else { seen[raw] = stamp }
                        }
                        undecodable = seen
                        scanErrorLogged = false
                    } catch {
                        if !scanErrorLogged { logger.error("cannot list the inbox", metadata: ["error": "\(error)"]) }
                        scanErrorLogged = true
                    }
                }
                // Watched files first (a settled one is queued and frees its slot), then newcomers.
                for name in tracker.names.sorted() {
                    // Held open (a writer may only be pausing): not settled, whatever stat says.
                    if taken.open.contains(name) {
                        tracker.restart(name, now: now)
                        continue
                    }
                    guard tracker.observe(name, spool.inboxStamp(name), now: now) else { continue }
                    if await dispatcher.isKnown(name) {
                        tracker.forget(name)
                    } else if await dispatcher.offer(job(name, claimed: false)) {
                        tracker.forget(name)
                    }
                }
                var candidates: [String] = []
                for name in names.union(waiting) where !tracker.contains(name) {
                    if await !dispatcher.isKnown(name) { candidates.append(name) }
                }
                tracker.admit(candidates, now: now) { spool.inboxStamp($0) }
                // Those still without a slot wait for one (until a rescan finds them gone).
                waiting = Set(candidates.filter { !tracker.contains($0) })
            }
            if let interval = notifier.watchdogIntervalMicroseconds, now - lastWatchdog >= Int64(interval) * 1000 {
                lastWatchdog = now
                notifier.watchdog()
            }
            await publishStatus()
            do { try await Task.sleep(for: .nanoseconds(tick)) } catch { return }
        }
    }

    /// `queued 3, working 2 (a.md 12/32, b.md 3/32), retrying 1, done 27, failed 3`.
    func statusText() async -> String {
        let counts = await dispatcher.counts
        var parts = ["queued \(counts.queued)"]
        let working = progress.describe(counts.running)
        parts.append("working \(working.count)" + (working.isEmpty ? "" : " (\(working.joined(separator: ", ")))"))
        if counts.retrying > 0 { parts.append("retrying \(counts.retrying)") }
        parts.append("done \(counts.done)")
        parts.append("failed \(counts.failed)")
        return parts.joined(separator: ", ")
    }

    /// The counts and what each worker fills, for the HTTP `/status` page.
    public func status() async -> ServiceStatus {
        let counts = await dispatcher.counts
        let now = SystemdNotifier.monotonicNanoseconds()
        let documents = progress.snapshot(now: now)
        let workers = (0..<max(1, options.workers)).map { ServiceStatus.Worker(worker: $0, document: documents[$0]) }
        let accepting = await dispatcher.accepting
        return ServiceStatus(
            state: stopping.load(ordering: .acquiring) || !accepting ? "stopping" : "running",
            uptimeSeconds: Double(now - startedAt) / 1e9, queued: counts.queued, retrying: counts.retrying,
            done: counts.done, failed: counts.failed, workers: workers)
    }

    /// The gauges: queue depth, retries waiting, busy workers.
    private func recordGauges() async {
        let counts = await dispatcher.counts
        metrics.queueDepth.record(counts.queued)
        metrics.retrying.record(counts.retrying)
        metrics.busyWorkers.record(counts.running.count)
        metrics.workers.record(max(1, options.workers))
    }

    private func publishStatus() async {
        await recordGauges()
        let text = await statusText()
        let changed = lastStatus.withLock { last -> Bool in
            defer { last = text }
            return last != text
        }
        if changed { notifier.status(text) }
    }

    // MARK: - Reload

    /// SIGHUP: reload the pipelines; a broken spec is logged and the old ones stay in use.
    public func reload() async {
        notifier.reloading()
        await processor.reloadLogged(logger)
        notifier.ready(status: await statusText())
    }
}
