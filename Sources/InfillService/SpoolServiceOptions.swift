/// How a ``SpoolService`` runs: pool size, settle and rescan timing, retries, stop timeout, mode.
public struct SpoolServiceOptions: Sendable, Equatable {
    public var workers: Int
    public var settleMilliseconds: Int
    public var watch: ServiceConfiguration.WatchMode
    public var rescanMilliseconds: Int
    public var queueLimit: Int
    public var retry: RetryPolicy
    public var stopTimeoutSeconds: Double
    /// The largest input read; larger ones fail unread.
    public var maxInputBytes: Int
    /// How long one document may take before it is given up and failed; 0 = no limit.
    public var documentTimeoutSeconds: Double
    /// Unfinished starts after which a document is quarantined instead of started again.
    public var quarantineAfter: Int
    /// Batch mode: process what is in the inbox now (no settle wait), then return.
    public var once: Bool

    public init(configuration: ServiceConfiguration, once: Bool = false) {
        workers = configuration.workers
        settleMilliseconds = configuration.settleMilliseconds
        watch = configuration.watch
        rescanMilliseconds = configuration.rescanMilliseconds
        queueLimit = configuration.effectiveQueueLimit
        retry = configuration.retryPolicy
        stopTimeoutSeconds = configuration.stopTimeoutSeconds
        maxInputBytes = configuration.maxInputBytes
        documentTimeoutSeconds = configuration.documentTimeoutSeconds
        quarantineAfter = configuration.quarantineAfter
        self.once = once
    }
}
