/// What the daemon is doing, for the HTTP `/status` page: its counts and what each worker fills.
///
/// Encoded as JSON with snake_case keys (`fields_done`, `eta_seconds`); an idle worker's
/// `document` is null.
public struct ServiceStatus: Sendable, Equatable, Encodable {
    /// One document being filled.
    ///
    /// Its progress is the document layer's own ``DocumentProgress``, encoded flat beside the
    /// name (`step`, `fields_done`, …) with the `fraction` it gives.
    public struct Document: Sendable, Equatable, Encodable {
        public var name: String
        /// The pipeline it was queued under.
        public var pipeline: String
        /// 1 for the first attempt.
        public var attempt: Int
        /// Where its filling stands (all zero before the first step).
        public var progress: DocumentProgress
        public var elapsedSeconds: Double
        /// Seconds left at the pace so far; nil before the first step.
        public var etaSeconds: Double?

        /// How much of the document is done, 0...1.
        public var fraction: Double { progress.fraction }

        enum CodingKeys: String, CodingKey { case name, pipeline, attempt, fraction, elapsedSeconds, etaSeconds }

        public func encode(to encoder: any Encoder) throws {
            try progress.encode(to: encoder)  // fields, fields_done, …, forward_passes, at the same level
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(pipeline, forKey: .pipeline)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(fraction, forKey: .fraction)
            try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
            try container.encodeIfPresent(etaSeconds, forKey: .etaSeconds)
        }
    }

    /// One worker of the pool: the document it fills, or nil when idle.
    public struct Worker: Sendable, Equatable, Encodable {
        public var worker: Int
        public var document: Document?

        /// Worker `worker`, filling `document` (nil: idle).
        public init(worker: Int, document: Document?) {
            self.worker = worker
            self.document = document
        }

        enum CodingKeys: String, CodingKey { case worker, document }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(worker, forKey: .worker)
            try container.encode(document, forKey: .document)  // null when idle
        }
    }

    /// `running` or `stopping`.
    public var state: String
    public var uptimeSeconds: Double
    /// Settled documents waiting for a worker.
    public var queued: Int
    /// Documents waiting for a retry's backoff.
    public var retrying: Int
    /// Documents committed and failed since the start.
    public var done: Int
    public var failed: Int
    public var workers: [Worker]

    /// A status from its parts.
    public init(
        state: String, uptimeSeconds: Double, queued: Int, retrying: Int, done: Int, failed: Int, workers: [Worker]
    ) {
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.queued = queued
        self.retrying = retrying
        self.done = done
        self.failed = failed
        self.workers = workers
    }

    /// Workers filling a document now.
    public var busyWorkers: Int { workers.filter { $0.document != nil }.count }
}
