/// The daemon's settings (`infill.yaml`): every key optional, defaults as in `infill.example.yaml`.
///
/// Read with ``ConfigurationLoader``; command-line flags override single fields afterwards.
public struct ServiceConfiguration: Sendable, Equatable {
    /// How the inbox is watched.
    public enum WatchMode: String, Sendable, CaseIterable {
        /// inotify events plus periodic rescans (local filesystems).
        case inotify
        /// Rescans only, every second (network filesystems give no inotify events).
        case poll
    }

    public var inbox = "./inbox"
    public var outbox = "./outbox"
    public var failed = "./failed"
    public var state = "./.infill"
    /// Where inputs that keep killing the daemon go; nil = `STATE/quarantine`.
    public var quarantine: String?
    public var pipelines = "./pipelines"
    /// Documents processed at once.
    public var workers = 2
    /// BLAS threads per worker.
    public var threadsPerWorker = 1
    /// `default`, or a path to a GGUF file or HF model folder.
    public var model = "default"
    /// How long a file must stay unchanged before it is claimed.
    public var settleMilliseconds = 500
    public var watch = WatchMode.inotify
    /// Full rescan interval (inotify is a hint, not the truth).
    public var rescanMilliseconds = 5000
    /// Documents held in the in-memory queue; nil = 4 per worker.
    public var queueLimit: Int?
    /// Attempts for transient failures, the first included.
    public var maxAttempts = 4
    /// First retry delay; it doubles for each further attempt.
    public var retryBackoffMilliseconds = 1000
    /// How long SIGTERM waits for in-flight documents before putting them back into the inbox.
    public var stopTimeoutSeconds = 30.0
    /// How long one document may take before it is given up and failed; 0 = no limit.
    public var documentTimeoutSeconds = 900.0
    /// Keep committed inputs in `state/done/` instead of removing them.
    public var keepDone = false
    /// The largest input file that is read; larger ones go to `failed/` unread.
    public var maxInputBytes = ServiceConfiguration.defaultMaxInputBytes
    /// Runs that may start a document without finishing it (a crash, kill -9, the OOM killer)
    /// before the next start quarantines it instead of trying again.
    public var quarantineAfter = 3

    /// 1 MiB: far more than any template, far less than what would hurt the daemon.
    public static let defaultMaxInputBytes = 1 << 20
    /// swift-log level: trace, debug, info, notice, warning, error, critical.
    public var logLevel = "info"
    /// Where `/metrics`, `/status` and `/healthz` are served; nil (the default) = no HTTP endpoint.
    public var http: HTTPAddress?
    /// The shared PostgreSQL queue; nil (the default) = the local spool only.
    public var queue: QueueAddress?
    /// What this daemon does with the shared queue (all three by default).
    public var roles: Set<DaemonRole> = Set(DaemonRole.allCases)
    /// How long a worker's claim on a job lasts without renewal (renewed every third of it).
    public var queueLeaseSeconds = 30.0

    public init() {}

    /// The spool folders.
    public var layout: SpoolLayout {
        SpoolLayout(inbox: inbox, outbox: outbox, failed: failed, state: state, quarantine: quarantine)
    }

    /// The effective queue bound.
    public var effectiveQueueLimit: Int { queueLimit ?? max(4, workers * 4) }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, initialDelayMilliseconds: retryBackoffMilliseconds)
    }

    /// Makes relative folder paths relative to `base` (the config file's folder).
    public mutating func resolvePaths(relativeTo base: String) {
        func resolve(_ path: String) -> String {
            if path.hasPrefix("/") || base.isEmpty || base == "." { return path }
            return base + "/" + (path.hasPrefix("./") ? String(path.dropFirst(2)) : path)
        }
        inbox = resolve(inbox)
        outbox = resolve(outbox)
        failed = resolve(failed)
        state = resolve(state)
        quarantine = quarantine.map(resolve)
        pipelines = resolve(pipelines)
        if let socket = http?.unixSocket { http?.unixSocket = resolve(socket) }
        if model != "default" && (model.contains("/") || model.hasSuffix(".gguf")) { model = resolve(model) }
    }
}
