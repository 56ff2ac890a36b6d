import Foundation
import InfillService

/// How a ``QueueService`` runs: its roles, the lease, polling, and the local spool's settings
/// that apply to a shared queue too (workers, settle time, retries, limits, stop timeout).
public struct QueueOptions: Sendable, Equatable {
    public var address: QueueAddress
    public var roles: Set<DaemonRole>
    /// Documents this daemon fills at once (its `work` role).
    public var workers: Int
    /// How long a claim lasts without renewal; renewed every third of it.
    public var leaseSeconds: Double
    /// How often an idle worker or exporter looks for a job, in milliseconds.
    public var pollMilliseconds: Int
    public var settleMilliseconds: Int
    /// inotify: a file someone holds open is not settled, whatever its size and mtime say.
    public var watch: ServiceConfiguration.WatchMode
    public var retry: RetryPolicy
    public var maxInputBytes: Int
    public var documentTimeoutSeconds: Double
    /// Lost leases (a worker killed on the job) after which a job is dead-lettered.
    public var quarantineAfter: Int
    public var stopTimeoutSeconds: Double
    /// Batch mode: enqueue what is in the inbox now, then stop once the queue is empty.
    public var once: Bool
    /// This daemon's name in the queue (`lease_owner`, `finished_by`): host and process id.
    public var owner: String

    /// The options infill.yaml (and the flags over it) give; `once` for `serve --once`.
    public init(configuration: ServiceConfiguration, address: QueueAddress, once: Bool = false) {
        self.address = address
        roles = configuration.roles
        workers = configuration.workers
        leaseSeconds = configuration.queueLeaseSeconds
        pollMilliseconds = 250
        settleMilliseconds = once ? 0 : configuration.settleMilliseconds
        watch = configuration.watch
        retry = configuration.retryPolicy
        maxInputBytes = configuration.maxInputBytes
        documentTimeoutSeconds = configuration.documentTimeoutSeconds
        quarantineAfter = configuration.quarantineAfter
        stopTimeoutSeconds = configuration.stopTimeoutSeconds
        self.once = once
        owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
