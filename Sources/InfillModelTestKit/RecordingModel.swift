import InfillModel
import Synchronization

/// Wraps a ``DenoisingModel`` and records every batch it is asked to predict, so tests can check
/// what the caller requested (batch sizes, which positions, how many forward passes).
public final class RecordingModel: DenoisingModel {
    public let base: any DenoisingModel
    private let log = Mutex<[[PredictionRequest]]>([])

    public init(_ base: any DenoisingModel) {
        self.base = base
    }

    public var logitWidth: Int { base.logitWidth }
    public var samplableVocabularySize: Int { base.samplableVocabularySize }
    public var maskTokenID: TokenID { base.maskTokenID }
    public var nullTokenID: TokenID { base.nullTokenID }
    public var startTokenID: TokenID? { base.startTokenID }
    public var maxSequenceLength: Int { base.maxSequenceLength }

    /// Every batch seen so far, one entry per forward pass.
    public var batches: [[PredictionRequest]] { log.withLock { $0 } }
    /// Forward passes served so far.
    public var forwardPasses: Int { log.withLock { $0.count } }

    public func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        log.withLock { $0.append(requests) }
        return try base.predict(requests)
    }
}
