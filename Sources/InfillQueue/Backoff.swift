/// Delays between reconnection attempts: 100 ms doubling to 5 s, reset after a success.
struct Backoff: Sendable {
    private(set) var failures = 0

    /// The delay before the next attempt, and counts this failure.
    mutating func next() -> Duration {
        failures += 1
        return .milliseconds(min(5000, 100 << min(failures - 1, 6)))
    }

    /// A success: the next failure waits the shortest delay again.
    mutating func reset() { failures = 0 }
}
