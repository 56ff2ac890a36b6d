/// The daemon's bookkeeping, in one actor: the bounded fair queue, the documents in flight, the
/// retries waiting for their backoff, the counts for STATUS, and shutdown.
///
/// Every name is in at most one of queued / running / retrying, so a document is never worked on
/// twice at once.
actor Dispatcher {
    private var queue: FairQueue<SpoolJob>
    private var queuedNames: Set<String> = []
    /// Claimed documents being worked on, with the handle to abandon their work at the deadline.
    private var running: [String: InFlightWork<ProcessOutcome>] = [:]
    /// Claimed documents waiting for a retry.
    private var retrying: Set<String> = []
    private var waiters: [CheckedContinuation<SpoolJob?, Never>] = []
    private(set) var accepting = true
    /// Batch mode: the inbox snapshot still to queue; the run ends once it and everything else is done.
    private var snapshot: [SpoolJob]?
    private(set) var completed = 0
    private(set) var failed = 0
    private var finishedWaiters: [CheckedContinuation<Void, Never>] = []

    init(capacity: Int) {
        queue = FairQueue(capacity: capacity)
    }

    /// True when `name` is queued, running or waiting for a retry.
    func isKnown(_ name: String) -> Bool {
        queuedNames.contains(name) || running[name] != nil || retrying.contains(name)
    }

    var hasRoom: Bool { !queue.isFull }

    /// Queues an inbox file; false when the queue is full or the name is already known.
    @discardableResult
    func offer(_ job: SpoolJob) -> Bool {
        guard accepting, !isKnown(job.name) else { return false }
        if let waiter = waiters.first {
            waiters.removeFirst()
            queuedNames.insert(job.name)
            waiter.resume(returning: job)
            return true
        }
        guard queue.push(job, pipeline: job.pipeline) else { return false }
        queuedNames.insert(job.name)
        return true
    }

    /// Queues a claimed file (recovered, or retried): never refused for space, as it is already
    /// out of the inbox.
    func requeueClaimed(_ job: SpoolJob) {
        retrying.remove(job.name)
        if let waiter = waiters.first {
            waiters.removeFirst()
            queuedNames.insert(job.name)
            waiter.resume(returning: job)
            return
        }
        queue.pushAlways(job, pipeline: job.pipeline)
        queuedNames.insert(job.name)
    }

    /// Batch mode: the files to process, fed into the bounded queue as it drains.
    func setSnapshot(_ jobs: [SpoolJob]) {
        snapshot = jobs
        refill()
        checkBatchFinished()
    }

    private func refill() {
        guard var pending = snapshot else { return }
        while !queue.isFull, !pending.isEmpty {
            let job = pending.removeFirst()
            if !isKnown(job.name) { offer(job) }
        }
        snapshot = pending
    }

    /// The next job for a worker; nil when the daemon is stopping (or the batch is done).
    func next() async -> SpoolJob? {
        if let job = queue.pop() {
            refill()
            return job
        }
        guard accepting else { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// A worker claimed (or holds) `name` and starts on it; false when the daemon stopped meanwhile
    /// (the worker then puts the file back).
    func started(_ name: String, work: InFlightWork<ProcessOutcome>) -> Bool {
        queuedNames.remove(name)
        guard accepting else { return false }
        running[name] = work
        return true
    }

    /// The job never started (the file vanished or its name is busy).
    func dropped(_ name: String) {
        queuedNames.remove(name)
        checkBatchFinished()
    }

    /// A job ended: committed, failed or put back.
    func finished(_ name: String, result: JobResult) {
        queuedNames.remove(name)
        running[name] = nil
        switch result {
        case .done: completed += 1
        case .failed: failed += 1
        case .putBack, .retrying: break
        }
        if case .retrying = result { retrying.insert(name) }
        refill()
        checkBatchFinished()
    }

    /// Counts a failure that never became a job (a file name that is not UTF-8).
    func countFailure() {
        failed += 1
    }

    private func checkBatchFinished() {
        guard let snapshot, snapshot.isEmpty, queue.isEmpty, running.isEmpty, retrying.isEmpty else { return }
        stop()
    }

    /// Stops handing out work; returns the claimed documents that are not running (queued
    /// recoveries and waiting retries) so they can go back into the inbox.
    @discardableResult
    func stop() -> [String] {
        accepting = false
        let queuedClaimed = queue.drain().filter(\.claimed).map(\.name)
        queuedNames.removeAll()
        let waiting = Array(retrying)
        retrying.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
        snapshot = snapshot.map { _ in [] }
        for waiter in finishedWaiters { waiter.resume() }
        finishedWaiters.removeAll()
        return queuedClaimed + waiting
    }

    /// Waits until ``stop()`` (batch done, or shutdown).
    func waitUntilStopped() async {
        guard accepting else { return }
        await withCheckedContinuation { finishedWaiters.append($0) }
    }

    /// Abandons every running document's work (the stop timeout ran out); returns their names.
    func abandonRunning() -> [String] {
        running.filter { $0.value.abandon() }.map(\.key)
    }

    var runningNames: [String] { running.keys.sorted() }
    var runningCount: Int { running.count }

    /// Numbers for the STATUS line.
    var counts: (queued: Int, running: [String], retrying: Int, done: Int, failed: Int) {
        (queue.count + (snapshot?.count ?? 0), running.keys.sorted(), retrying.count, completed, failed)
    }
}

/// How one job ended, for the dispatcher's counts.
enum JobResult: Sendable {
    case done
    case failed
    case putBack
    case retrying
}

/// What a worker thread returns for one document.
enum ProcessOutcome: Sendable {
    case processed(ProcessedDocument)
    case failed(DocumentFailure)
}

extension Dispatcher {
    /// A retry's backoff ran out: queue it again unless shutdown put it back meanwhile.
    func retryDue(_ job: SpoolJob) {
        guard accepting, retrying.contains(job.name) else { return }
        requeueClaimed(job)
    }
}
