import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The daemon: its ``InboxScanner`` finds settled files in the inbox and queues them, a pool of
/// ``SpoolWorker``s sharing one ``DocumentProcessor`` fills them and commits or fails each through
/// the ``SpoolDirectory``; this type starts and stops them and reports status.
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
    let logger: Logger
    let dispatcher: Dispatcher
    let progress = ProgressBoard()
    /// What every worker of the pool runs.
    let worker: SpoolWorker
    let lastStatus = Mutex<String>("")
    let stopping = Atomic<Bool>(false)
    let startedAt = SystemdNotifier.monotonicNanoseconds()

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
        let dispatcher = Dispatcher(capacity: options.queueLimit)
        self.dispatcher = dispatcher
        self.worker = SpoolWorker(
            spool: spool, processor: processor, options: options, dispatcher: dispatcher, progress: progress,
            metrics: metrics, logger: logger)
    }

    /// Documents committed and failed so far (`serve --once` exits 1 when any failed).
    public var summary: (done: Int, failed: Int) {
        get async { (await dispatcher.completed, await dispatcher.failed) }
    }

    public func run() async throws {
        let leftovers = try spool.leftoverClaims()
        for name in leftovers {
            await dispatcher.requeueClaimed(SpoolJob(name, claimed: true, for: processor))
        }
        if !leftovers.isEmpty {
            logger.notice("requeued documents left in processing/ by an earlier run", metadata: ["count": "\(leftovers.count)"])
        }
        let watch = options.once ? nil : try InboxWatch(inbox: spool.layout.inbox, mode: options.watch)
        defer { watch?.stop() }
        let scanner = InboxScanner(
            spool: spool, processor: processor, dispatcher: dispatcher, watch: watch, options: options,
            metrics: metrics, logger: logger)
        if options.once {
            await dispatcher.setSnapshot(try await scanner.snapshot())
        }
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
                for index in 0..<max(1, options.workers) {
                    group.addTask {
                        await self.worker.run(index)
                        return true
                    }
                }
                group.addTask {
                    await self.tickLoop(scanner)
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
            worker.putBack(name, reason: "shutdown")
        }
    }

    /// Every tick until the queue closes: the scanner's turn (not in batch mode), then STATUS and
    /// WATCHDOG.
    private func tickLoop(_ scanner: InboxScanner) async {
        var scanner = scanner
        let tick = Int64(min(250, max(20, options.settleMilliseconds / 5))) * 1_000_000
        var lastWatchdog = Int64.min / 2
        while await dispatcher.accepting {
            let now = SystemdNotifier.monotonicNanoseconds()
            if !options.once { await scanner.tick(now: now) }
            if let interval = notifier.watchdogIntervalMicroseconds, now - lastWatchdog >= Int64(interval) * 1000 {
                lastWatchdog = now
                notifier.watchdog()
            }
            await publishStatus()
            do { try await Task.sleep(for: .nanoseconds(tick)) } catch { return }
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

    // MARK: - Reload

    /// SIGHUP: reload the pipelines; a broken spec is logged and the old ones stay in use.
    public func reload() async {
        notifier.reloading()
        await processor.reloadLogged(logger)
        notifier.ready(status: await statusText())
    }
}
