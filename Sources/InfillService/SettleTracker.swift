/// Decides when an inbox file is complete: its size and mtime must stay unchanged for the settle
/// time (a writer that is still appending changes one of them).
///
/// Pure bookkeeping over observations, so it is tested without a clock or a filesystem.
struct SettleTracker {
    /// How long a file must stay unchanged, in nanoseconds.
    let settleNanoseconds: Int64
    private var observations: [String: (stamp: FileStamp, since: Int64)] = [:]

    init(settleMilliseconds: Int) {
        settleNanoseconds = Int64(max(0, settleMilliseconds)) * 1_000_000
    }

    /// The names being watched for stability.
    var names: [String] { Array(observations.keys) }
    var count: Int { observations.count }

    func contains(_ name: String) -> Bool { observations[name] != nil }

    /// Records what `stat` says about `name` at monotonic time `now` (ns); true when the file has
    /// been unchanged for the settle time. A vanished file (nil stamp) is forgotten.
    mutating func observe(_ name: String, _ stamp: FileStamp?, now: Int64) -> Bool {
        guard let stamp, stamp.isRegularFile else {
            observations[name] = nil
            return false
        }
        if let previous = observations[name], previous.stamp == stamp {
            return now - previous.since >= settleNanoseconds
        }
        observations[name] = (stamp, now)
        return settleNanoseconds == 0
    }

    mutating func forget(_ name: String) { observations[name] = nil }
}
