import Foundation
import InfillService

/// How a ``QueueService`` runs: its roles, the lease, polling, and the local spool's settings
/// that apply to a shared queue too (workers, settle time, retries, limits, stop timeout).
package struct QueueOptions: Sendable, Equatable {
    package var address: QueueAddress
    package var roles: Set<DaemonRole>
    /// Documents this daemon fills at once (its `work` role).
    package var workers: Int
    /// How long a claim lasts without renewal; renewed every third of it.
    package var leaseSeconds: Double
    /// How often an idle worker or exporter looks for a job, in milliseconds.
    package var pollMilliseconds: Int
    package var settleMilliseconds: Int
    /// inotify: a file someone holds open is not settled, whatever its size and mtime say.
    package var watch: ServiceConfiguration.WatchMode
    package var retry: RetryPolicy
    package var maxInputBytes: Int
    package var documentTimeoutSeconds: Double
    /// Lost leases (a worker killed on the job) after which a job is dead-lettered.
    package var quarantineAfter: Int
    package var stopTimeoutSeconds: Double
    /// Batch mode: enqueue what is in the inbox now, then stop once the queue is empty.
    package var once: Bool
    /// This daemon's name in the queue (`lease_owner`, `finished_by`): host and process id.
    package var owner: String

    /// The options infill.yaml (and the flags over it) give; `once` for `serve --once`.
    package init(configuration: ServiceConfiguration, address: QueueAddress, once: Bool = false) {
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
