import Synchronization
import Metrics

/// The progress of the documents being filled, written by worker threads and read for the systemd
/// STATUS line and the HTTP `/status` page.
public final class ProgressBoard: Sendable {
    private struct Entry {
        var worker: Int
        var pipeline: String
        var attempt: Int
        /// Monotonic nanoseconds when the worker started on it.
        var started: Int64
        var progress: DocumentProgress?
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// A worker started on `name`.
    public func begin(_ name: String, worker: Int, pipeline: String, attempt: Int, now: Int64) {
        entries.withLock { $0[name] = Entry(worker: worker, pipeline: pipeline, attempt: attempt, started: now) }
    }

    /// Records the progress of a document begun earlier; returns the forward passes added since
    /// the previous update (0 for a document not on the board).
    @discardableResult
    public func update(_ name: String, _ progress: DocumentProgress) -> Int {
        entries.withLock { entries in
            guard var entry = entries[name] else { return 0 }
            let before = entry.progress?.forwardPasses ?? 0
            entry.progress = progress
            entries[name] = entry
            return max(0, progress.forwardPasses - before)
        }
    }

    /// The document is finished or given up.
    public func remove(_ name: String) {
        entries.withLock { $0[name] = nil }
    }

    /// `a.md 12/32` for a document with progress, `a.md` for one without.
    func describe(_ names: [String]) -> [String] {
        entries.withLock { entries in
            names.map { name in
                entries[name]?.progress.map { "\(name) \($0.step)/\($0.totalSteps)" } ?? name
            }
        }
    }

    /// Every document on the board by worker, with its elapsed time and an ETA from its progress.
    public func snapshot(now: Int64) -> [Int: ServiceStatus.Document] {
        entries.withLock { entries in
            var byWorker: [Int: ServiceStatus.Document] = [:]
            for (name, entry) in entries {
                let elapsed = Double(max(0, now - entry.started)) / 1e9
                let progress = entry.progress ?? DocumentProgress(step: 0, totalSteps: 0)
                let fraction = progress.fraction
                // Linear in the work done so far; none before the first step.
                let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : nil
                byWorker[entry.worker] = ServiceStatus.Document(
                    name: name, pipeline: entry.pipeline, attempt: entry.attempt, progress: progress,
                    elapsedSeconds: elapsed, etaSeconds: eta)
            }
            return byWorker
        }
    }
}

extension ProgressBoard {
    /// The progress handler of document `name`: keeps its line on this board up to date and
    /// counts the forward passes each update adds.
    public func handler(
        for name: String, countingInto forwardPasses: Counter, isWanted: @escaping @Sendable () -> Bool
    ) -> DocumentProgressHandler {
        DocumentProgressHandler(
            update: { update in
                let added = self.update(name, update)
                if added > 0 { forwardPasses.increment(by: Int64(added)) }
            },
            isWanted: isWanted)
    }
}
