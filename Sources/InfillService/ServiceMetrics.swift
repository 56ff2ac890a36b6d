import CoreMetrics
import Metrics

/// The daemon's metrics, made through swift-metrics from one factory: documents by result,
/// seconds per document, forward passes, queue depth, busy workers, model load time, build info.
///
/// ``SpoolService`` updates them as it works; `infill serve` makes them with a Prometheus factory
/// when the HTTP endpoint is on, and ``disabled`` (no-op handlers) otherwise.
public struct ServiceMetrics: Sendable {
    /// The metric names, as scraped from `/metrics`.
    public enum Name {
        /// Counter with `result` = done, failed, retried or quarantined.
        public static let documents = "infill_documents_total"
        /// Histogram (seconds) of the documents committed to the outbox.
        public static let documentSeconds = "infill_document_seconds"
        /// Counter of the model's forward passes (batched candidates count once).
        public static let forwardPasses = "infill_forward_passes_total"
        /// Gauge: documents waiting in the queue (settled, not started).
        public static let queueDepth = "infill_queue_depth"
        /// Gauge: documents waiting for a retry's backoff.
        public static let retrying = "infill_documents_retrying"
        /// Gauge: workers filling a document now.
        public static let busyWorkers = "infill_workers_busy"
        /// Gauge: the worker pool's size.
        public static let workers = "infill_workers"
        /// Gauge: seconds the model took to load at start.
        public static let modelLoadSeconds = "infill_model_load_seconds"
        /// Gauge, always 1, with `version`, `model` and `adapter` labels.
        public static let buildInfo = "infill_build_info"
        /// Gauge: the daemon's start, in seconds since 1970.
        public static let startTime = "infill_start_time_seconds"
    }

    /// The histogram buckets of ``Name/documentSeconds``, in seconds: from a tiny test model's
    /// fraction of a second to `document_timeout_s`'s default 900.
    public static let documentSecondsBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 900]

    private let factory: any MetricsFactory
    // The metrics themselves, public for the shared queue's daemon (`InfillQueue`).
    public let done: Counter
    public let failed: Counter
    public let retried: Counter
    public let quarantined: Counter
    public let documentSeconds: Metrics.Timer
    public let forwardPasses: Counter
    public let queueDepth: Gauge
    public let retrying: Gauge
    public let busyWorkers: Gauge
    public let workers: Gauge

    /// Makes every metric with `factory` (the global `MetricsSystem.factory` by default).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        func documents(_ result: String) -> Counter {
            Counter(label: Name.documents, dimensions: [("result", result)], factory: factory)
        }
        done = documents("done")
        failed = documents("failed")
        retried = documents("retried")
        quarantined = documents("quarantined")
        documentSeconds = Metrics.Timer(label: Name.documentSeconds, dimensions: [], factory: factory)
        forwardPasses = Counter(label: Name.forwardPasses, dimensions: [], factory: factory)
        queueDepth = Gauge(label: Name.queueDepth, dimensions: [], factory: factory)
        retrying = Gauge(label: Name.retrying, dimensions: [], factory: factory)
        busyWorkers = Gauge(label: Name.busyWorkers, dimensions: [], factory: factory)
        workers = Gauge(label: Name.workers, dimensions: [], factory: factory)
    }

    /// Metrics that go nowhere (no HTTP endpoint).
    public static var disabled: ServiceMetrics { ServiceMetrics(factory: NOOPMetricsHandler.instance) }

    /// Records what is known once at start: the build, the model and how long it took to load.
    public func recordStart(version: String, model: String, adapter: String?, modelLoadSeconds: Double, startTime: Double) {
        Gauge(label: Name.buildInfo, dimensions: [("version", version), ("model", model), ("adapter", adapter ?? "none")],
              factory: factory).record(1)
        Gauge(label: Name.modelLoadSeconds, dimensions: [], factory: factory).record(modelLoadSeconds)
        Gauge(label: Name.startTime, dimensions: [], factory: factory).record(startTime)
    }
}
