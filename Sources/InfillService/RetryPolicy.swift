/// Retries of transient failures: the delay doubles after each attempt, clamped to a maximum, and
/// the document fails for good after ``maxAttempts`` (as Postfix backs off deferred mail).
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first one included.
    public var maxAttempts: Int
    /// The delay before the second attempt, in milliseconds.
    public var initialDelayMilliseconds: Int
    /// The longest delay between two attempts, in milliseconds.
    public var maximumDelayMilliseconds: Int

    public init(maxAttempts: Int = 4, initialDelayMilliseconds: Int = 1000, maximumDelayMilliseconds: Int = 60_000) {
        self.maxAttempts = max(1, maxAttempts)
        self.initialDelayMilliseconds = max(0, initialDelayMilliseconds)
        self.maximumDelayMilliseconds = max(self.initialDelayMilliseconds, maximumDelayMilliseconds)
    }

    /// The delay after failed attempt number `attempt` (1-based), or nil when no attempt is left.
    public func delayMilliseconds(afterAttempt attempt: Int) -> Int? {
        guard attempt < maxAttempts else { return nil }
        let doublings = min(attempt - 1, 30)
        let delay = initialDelayMilliseconds.multipliedReportingOverflow(by: 1 << doublings)
        return delay.overflow ? maximumDelayMilliseconds : min(delay.partialValue, maximumDelayMilliseconds)
    }

    /// The delay after failed attempt number `attempt` when the failure is the spool's, not the
    /// document's (disk full, quota): never gives up, backs off to ``maximumDelayMilliseconds``
    /// (as Postfix defers mail while its queue filesystem is full).
    public func deferralDelayMilliseconds(afterAttempt attempt: Int) -> Int {
        let doublings = min(max(0, attempt - 1), 30)
        let delay = max(1, initialDelayMilliseconds).multipliedReportingOverflow(by: 1 << doublings)
        return delay.overflow ? maximumDelayMilliseconds : min(delay.partialValue, maximumDelayMilliseconds)
    }
}
