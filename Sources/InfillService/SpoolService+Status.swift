/// What the daemon tells about itself: the systemd STATUS line, the HTTP `/status` document and
/// the gauges.
extension SpoolService {
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

    func publishStatus() async {
        await recordGauges()
        let text = await statusText()
        let changed = lastStatus.withLock { last -> Bool in
            defer { last = text }
            return last != text
        }
        if changed { notifier.status(text) }
    }

}
