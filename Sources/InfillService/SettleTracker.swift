/// Decides when an inbox file is complete: its size and mtime must stay unchanged for the settle
/// time (a writer that is still appending changes one of them).
///
/// It watches at most ``capacity`` files at once. A file that does not settle within the
/// patience gives its slot up to a waiting one and goes to the back of the line, so files that
/// keep changing cannot starve the others.
///
/// Pure bookkeeping over observations, so it is tested without a clock or a filesystem.
struct SettleTracker {
    /// How long a file must stay unchanged, in nanoseconds.
    let settleNanoseconds: Int64
    /// Files watched at once.
    let capacity: Int
    /// How long a file may hold a slot without settling while others wait, in nanoseconds.
    let patienceNanoseconds: Int64

    private struct Observation {
        var stamp: FileStamp
        /// Unchanged since then.
        var since: Int64
        /// Watched since then.
        var admitted: Int64
    }

    private var observations: [String: Observation] = [:]
    /// When each file last gave its slot up; such files are admitted after those never benched.
    private var benched: [String: Int64] = [:]

    init(settleMilliseconds: Int, capacity: Int = 64, patienceMilliseconds: Int? = nil) {
        settleNanoseconds = Int64(max(0, settleMilliseconds)) * 1_000_000
        self.capacity = max(1, capacity)
        let patience = patienceMilliseconds ?? max(1000, 4 * settleMilliseconds)
        patienceNanoseconds = Int64(max(0, patience)) * 1_000_000
    }

    /// The names being watched for stability.
    var names: [String] { Array(observations.keys) }
    var count: Int { observations.count }

    func contains(_ name: String) -> Bool { observations[name] != nil }

    /// Starts watching as many of `candidates` (names not watched yet) as there are free slots,
    /// those never benched first, then those benched longest ago. When candidates wait and no slot
    /// is free, files that have not settled within the patience are benched first to make room.
    /// `stamp` gives what `stat` says now. Returns the names admitted.
    @discardableResult
    mutating func admit(_ candidates: [String], now: Int64, stamp: (String) -> FileStamp?) -> [String] {
        let waiting = candidates.filter { observations[$0] == nil }
        guard !waiting.isEmpty else { return [] }
        let free = capacity - observations.count
        if waiting.count > free {
            let stale = observations
                .filter { now - $0.value.admitted >= patienceNanoseconds && now - $0.value.since < settleNanoseconds }
                .sorted { ($0.value.admitted, $0.key) < ($1.value.admitted, $1.key) }
                .prefix(waiting.count - free)
            for (name, _) in stale {
                observations[name] = nil
                benched[name] = now
            }
        }
        let order = waiting.sorted { (benched[$0] ?? .min, $0) < (benched[$1] ?? .min, $1) }
        var admitted: [String] = []
        for name in order where observations.count < capacity {
            _ = observe(name, stamp(name), now: now)
            if observations[name] != nil { admitted.append(name) }
        }
        return admitted
    }

    /// Records what `stat` says about `name` at monotonic time `now` (ns); true when the file has
    /// been unchanged for the settle time. A vanished file (nil stamp) is forgotten.
    mutating func observe(_ name: String, _ stamp: FileStamp?, now: Int64) -> Bool {
        guard let stamp, stamp.isRegularFile else {
            observations[name] = nil
            return false
        }
        if let previous = observations[name] {
            if previous.stamp == stamp { return now - previous.since >= settleNanoseconds }
            observations[name] = Observation(stamp: stamp, since: now, admitted: previous.admitted)
            return false
        }
        observations[name] = Observation(stamp: stamp, since: now, admitted: now)
        return settleNanoseconds == 0
    }

    /// Restarts the settle clock of a watched file as if it had changed (it is held open).
    mutating func restart(_ name: String, now: Int64) {
        observations[name]?.since = now
    }

    /// Stops watching `name` (claimed, queued or gone) and forgets that it was ever benched.
    mutating func forget(_ name: String) {
        observations[name] = nil
        benched[name] = nil
    }

    /// Forgets every watched or benched name that is no longer in the inbox.
    mutating func keep(only present: Set<String>) {
        for name in observations.keys where !present.contains(name) { observations[name] = nil }
        for name in benched.keys where !present.contains(name) { benched[name] = nil }
    }
}
