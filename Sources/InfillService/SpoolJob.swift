/// One document's turn in the queue.
struct SpoolJob: Sendable, Equatable {
    /// The file name (in the inbox, or in `processing/` once claimed).
    var name: String
    /// The pipeline it is queued under, for fair interleaving.
    var pipeline: String
    /// True when the file is already in `processing/` (recovered after a crash, or a retry).
    var claimed: Bool
    /// 1 for the first attempt.
    var attempt: Int
}

extension SpoolJob {
    /// A job for `name`, queued under the pipeline `processor` expects for that file name.
    init(_ name: String, claimed: Bool, attempt: Int = 1, for processor: any DocumentProcessor) {
        self.init(name: name, pipeline: processor.pipelineName(forFileNamed: name), claimed: claimed, attempt: attempt)
    }
}
