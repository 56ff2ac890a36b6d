import Foundation
import InfillService
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// The daemon with a shared PostgreSQL queue: the roles this daemon has (``DaemonRole``) run side
/// by side, each on its own connection, until SIGTERM (or, with `--once`, until the queue is empty).
///
/// Start-up connects once and creates or migrates the schema; a wrong URL, password, database or
/// missing permission stops the start with a ``ConfigurationError`` that says which and what to do.
/// After that, a connection that fails (the server restarted) is reopened with backoff and the
/// work goes on: nothing is lost, because every change is one committed statement.
package final class QueueService: Service, Sendable {
    package let options: QueueOptions
    package let spool: SpoolDirectory
    /// Fills documents; nil for a daemon without the `work` role (no model loaded).
    package let processor: (any DocumentProcessor)?
    let logger: Logger
    /// READY, STATUS, WATCHDOG, RELOADING and STOPPING for systemd (a no-op outside a unit).
    package let notifier: SystemdNotifier
    /// Updated as jobs finish and every second; no-op handlers unless the HTTP endpoint is on.
    package let metrics: ServiceMetrics
    /// What each worker slot fills now, for `/status`.
    let progress = ProgressBoard()
    /// Jobs due and jobs waiting for a retry, as the last tick read them from the queue.
    private let waiting = Mutex<(queued: Int, retrying: Int)>((0, 0))
    private let startedAt = QueueService.now()
    private let stopping = Atomic<Bool>(false)
    private let watcherDone = Atomic<Bool>(false)
    private let works = Mutex<[Int: InFlightWork<Result<ProcessedDocument, DocumentFailure>>]>([:])
    private let lostLeases = Mutex<Set<Int>>([])

    /// What this daemon did, for the log and `serve --once`'s exit status.
    package struct Counters: Sendable, Equatable {
        package var enqueued = 0
        /// Jobs this daemon's workers filled.
        package var filled = 0
        /// Jobs this daemon's workers dead-lettered.
        package var deadLettered = 0
        /// Jobs this daemon's workers finished (filled or dead-lettered).
        package var processed: Int { filled + deadLettered }
        package var exportedDone = 0
        package var exportedFailed = 0
        /// Inbox files failed by the watcher without becoming jobs.
        package var failed = 0
    }

    let counters = Mutex(Counters())

    /// A daemon on `spool` with `options.roles`; `processor` is needed for the `work` role.
    package init(
        options: QueueOptions, spool: SpoolDirectory, processor: (any DocumentProcessor)?,
        notifier: SystemdNotifier = SystemdNotifier(environment: [:]), metrics: ServiceMetrics = .disabled, logger: Logger
    ) {
        self.options = options
        self.spool = spool
        self.processor = processor
        self.notifier = notifier
        self.metrics = metrics
        self.logger = logger
    }

    /// What this daemon did so far.
    package var summary: Counters { counters.withLock { $0 } }

    /// Connects and creates or migrates the schema; throws a ``ConfigurationError`` naming the
    /// queue and what to fix when that cannot work (bad address, login, database, permission).
    package static func prepare(_ address: QueueAddress, logger: Logger) async throws(ConfigurationError) {
        let link = QueueLink(address: address, logger: logger)
        do {
            let found = try await link.run { try await QueueSchema.migrate($0, logger: logger) }
            if found < QueueSchema.version {
                logger.notice("queue schema created or migrated", metadata: [
                    "queue": "\(address)", "from": "\(found)", "to": "\(QueueSchema.version)",
                ])
            }
            await link.close()
        } catch {
            await link.close()
            throw ConfigurationError(
                file: "queue \(address)", message: QueueDiagnosis.describe(error), hint: QueueDiagnosis.hint(error, address: address))
        }
    }

    package func run() async throws {
        try await Self.prepare(options.address, logger: logger)
        // Trapped before READY=1, so a reload right after start cannot kill the daemon.
        let hangups = options.once ? nil : await UnixSignalsSequence(trapping: .sighup)
        let roles = options.roles.sorted().map(\.rawValue).joined(separator: ",")
        logger.info("ready", metadata: [
            "queue": "\(options.address)", "roles": "\(roles)", "owner": "\(options.owner)",
            "workers": "\(options.roles.contains(.work) ? options.workers : 0)", "mode": "\(options.once ? "once" : "queue")",
        ])
        notifier.ready(status: statusText())
        await withGracefulShutdownHandler {
            if options.roles.contains(.watch), options.once {
                await QueueWatcher(service: self).run()
            }
            watcherDone.store(true, ordering: .releasing)
            await withTaskGroup(of: Bool.self) { group in
                var loops = 0
                if options.roles.contains(.watch), !options.once {
                    group.addTask { await QueueWatcher(service: self).run(); return true }
                    loops += 1
                }
                if options.roles.contains(.work), processor != nil {
                    for slot in 0..<max(1, options.workers) {
                        group.addTask { await QueueWorker(service: self, slot: slot).run(); return true }
                        loops += 1
                    }
                }
                if options.roles.contains(.export) {
                    group.addTask { await QueueExporter(service: self).run(); return true }
                    loops += 1
                }
                group.addTask { await self.enforceStopTimeout(); return false }
                group.addTask { await self.tickLoop(); return false }
                if let hangups {
                    group.addTask {
                        for await _ in hangups { await self.reload() }
                        return false
                    }
                }
                while loops > 0, let isLoop = await group.next() {
                    if isLoop { loops -= 1 }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.shutdown()
        }
        notifier.stopping()
        let summary = self.summary
        logger.info("stopped", metadata: [
            "enqueued": "\(summary.enqueued)", "processed": "\(summary.processed)",
            "exported": "\(summary.exportedDone)", "failed": "\(summary.exportedFailed + summary.failed)",
        ])
    }

    /// Stops claiming and enqueueing; in-flight documents get the stop timeout to finish.
    package func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        notifier.stopping()
        let inFlight = works.withLock { $0.count }
        logger.info("stopping: no new documents are claimed", metadata: ["in_flight": "\(inFlight)"])
    }

    var isStopping: Bool { stopping.load(ordering: .acquiring) }
    var watcherFinished: Bool { watcherDone.load(ordering: .acquiring) }

    /// The pipeline hint stored with a new job (the processor's guess by file name).
    func pipelineName(_ name: String) -> String { processor?.pipelineName(forFileNamed: name) ?? "default" }

    /// Registers the work a worker slot runs now (for the stop timeout).
    func track(_ work: InFlightWork<Result<ProcessedDocument, DocumentFailure>>, slot: Int) {
        works.withLock { $0[slot] = work }
        lostLeases.withLock { _ = $0.remove(slot) }
    }

    /// Forgets a slot's work once it finished.
    func untrack(slot: Int) { works.withLock { _ = $0.removeValue(forKey: slot) } }

    /// Records that a slot's lease was taken over (its work is abandoned, nothing stored).
    func markLeaseLost(slot: Int) { lostLeases.withLock { _ = $0.insert(slot) } }

    /// True when the slot's current lease was taken over.
    func leaseLost(slot: Int) -> Bool { lostLeases.withLock { $0.contains(slot) } }

    /// Monotonic nanoseconds.
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    // MARK: - Status, watchdog, reload

    /// `queue postgresql://…, roles work,export, working 1, processed 12, exported 10, failed 1`.
    func statusText() -> String {
        let counts = summary
        let working = works.withLock { $0.count }
        return "queue \(options.address), roles \(options.roles.sorted().map(\.rawValue).joined(separator: ",")), "
            + "working \(working), enqueued \(counts.enqueued), processed \(counts.processed), "
            + "exported \(counts.exportedDone), failed \(counts.exportedFailed + counts.failed)"
    }

    /// Every second: WATCHDOG=1 when systemd asks for it, STATUS when it changed, and the gauges
    /// (the queue's depth read from the database).
    private func tickLoop() async {
        let link = QueueLink(address: options.address, logger: logger)
        await ticks(link)
        await link.close()
    }

    private func ticks(_ link: QueueLink) async {
        var last = ""
        let logger = self.logger
        while !isStopping {
            if let counts = try? await link.run({ try await JobStore.waiting($0, logger: logger) }) {
                waiting.withLock { $0 = counts }
            }
            let (queued, retrying) = waiting.withLock { $0 }
            metrics.queueDepth.record(queued)
            metrics.retrying.record(retrying)
            metrics.busyWorkers.record(works.withLock { $0.count })
            metrics.workers.record(options.roles.contains(.work) && processor != nil ? max(1, options.workers) : 0)
            if notifier.watchdogIntervalMicroseconds != nil { notifier.watchdog() }
            let text = statusText()
            if text != last { notifier.status(text) }
            last = text
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    /// SIGHUP: reload the pipelines; a broken spec is logged and the old ones stay in use.
    func reload() async {
        guard let processor else { return }
        notifier.reloading()
        await processor.reloadLogged(logger)
        notifier.ready(status: statusText())
    }

    /// The counts and what each worker fills, for the HTTP `/status` page: `queued` and
    /// `retrying` are the whole queue's, `done` and `failed` this daemon's workers'.
    package func status() async -> ServiceStatus {
        let now = Self.now()
        let documents = progress.snapshot(now: now)
        let slots = options.roles.contains(.work) && processor != nil ? max(1, options.workers) : 0
        let (queued, retrying) = waiting.withLock { $0 }
        let counts = summary
        return ServiceStatus(
            state: isStopping ? "stopping" : "running", uptimeSeconds: Double(now - startedAt) / 1e9,
            queued: queued, retrying: retrying, done: counts.filled, failed: counts.deadLettered,
            workers: (0..<slots).map { ServiceStatus.Worker(worker: $0, document: documents[$0]) })
    }

    // MARK: - Stopping

    /// After shutdown began, waits up to the stop timeout for in-flight documents, then abandons
    /// the rest (their workers give the jobs back to the queue).
    private func enforceStopTimeout() async {
        while !isStopping {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
        let deadline = Self.now() + Int64(options.stopTimeoutSeconds * 1e9)
        while works.withLock({ !$0.isEmpty }), Self.now() < deadline {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
        let abandoned = works.withLock { Array($0.values) }
        for work in abandoned { work.abandon(.shutdown) }
        if !abandoned.isEmpty {
            logger.warning("stop timeout reached; giving in-flight documents back to the queue", metadata: ["count": "\(abandoned.count)"])
        }
    }
}
