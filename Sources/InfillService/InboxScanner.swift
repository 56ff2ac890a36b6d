import Logging

/// The daemon's inbox side: takes what the ``InboxWatch`` saw, rescans the inbox when due, waits
/// for each file to settle (``SettleTracker``) and offers the settled ones to the queue as
/// ``SpoolJob``s; a name that is not UTF-8 is moved to `failed/` instead.
///
/// ``SpoolService`` owns one and calls ``tick(now:)`` from its tick loop, never concurrently.
struct InboxScanner: Sendable {
    private let spool: SpoolDirectory
    private let processor: any DocumentProcessor
    private let dispatcher: Dispatcher
    private let watch: InboxWatch?
    private let metrics: ServiceMetrics
    private let logger: Logger
    private let rescanEvery: Int64
    private var tracker: SettleTracker
    private var lastRescan = Int64.min / 2
    private var scanErrorLogged = false
    /// Names that are not UTF-8, with their stamp at the previous rescan: rejected once unchanged.
    private var undecodable: [[UInt8]: FileStamp] = [:]
    /// Inbox files seen but not watched yet: every slot was taken.
    private var waiting: Set<String> = []

    /// A scanner of `spool`'s inbox fed by `watch` (nil: batch mode, or a scanner only for ``snapshot()``).
    init(
        spool: SpoolDirectory, processor: any DocumentProcessor, dispatcher: Dispatcher, watch: InboxWatch?,
        options: SpoolServiceOptions, metrics: ServiceMetrics, logger: Logger
    ) {
        self.spool = spool
        self.processor = processor
        self.dispatcher = dispatcher
        self.watch = watch
        self.metrics = metrics
        self.logger = logger
        rescanEvery = Int64(options.watch == .poll ? min(options.rescanMilliseconds, 1000) : options.rescanMilliseconds) * 1_000_000
        tracker = SettleTracker(settleMilliseconds: options.settleMilliseconds, capacity: max(64, options.queueLimit * 4))
    }

    /// Batch mode: what is in the inbox now, as jobs, without waiting for anything to settle;
    /// names that are not UTF-8 are rejected on the way.
    func snapshot() async throws -> [SpoolJob] {
        let scan = try spool.scanInbox()
        for raw in scan.undecodable { await reject(raw) }
        return scan.names.map { SpoolJob($0, claimed: false, for: processor) }
    }

    /// One tick: take the watch's events, rescan when due, settle-check candidates, and queue the
    /// settled ones while there is room.
    mutating func tick(now: Int64) async {
        let taken = watch?.take() ?? (names: [], rescan: false, open: [])
        var names = taken.names
        if taken.rescan || now - lastRescan >= rescanEvery {
            lastRescan = now
            names.formUnion(await rescan())
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
            } else if await dispatcher.offer(SpoolJob(name, claimed: false, for: processor)) {
                tracker.forget(name)
            }
        }
        var candidates: [String] = []
        for name in names.union(waiting) where !tracker.contains(name) {
            if await !dispatcher.isKnown(name) { candidates.append(name) }
        }
        let spool = self.spool
        tracker.admit(candidates, now: now) { spool.inboxStamp($0) }
        // Those still without a slot wait for one (until a rescan finds them gone).
        waiting = Set(candidates.filter { !tracker.contains($0) })
    }

    /// Lists the inbox: forgets what is gone, rejects undecodable names that stayed unchanged since
    /// the previous rescan, and returns the names present (none when the inbox cannot be listed).
    private mutating func rescan() async -> [String] {
        do {
            let scan = try spool.scanInbox()
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
            return scan.names
        } catch {
            if !scanErrorLogged { logger.error("cannot list the inbox", metadata: ["error": "\(error)"]) }
            scanErrorLogged = true
            return []
        }
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
}
