import InfillModel
import Synchronization

/// Wraps a ``DenoisingModel`` and records every batch it is asked to predict, so tests can check
/// what the caller requested (batch sizes, which positions, how many forward passes).
package final class RecordingModel: DenoisingModel {
    package let base: any DenoisingModel
    private let log = Mutex<[[PredictionRequest]]>([])

    package init(_ base: any DenoisingModel) {
        self.base = base
    }

    package var logitWidth: Int { base.logitWidth }
    package var samplableVocabularySize: Int { base.samplableVocabularySize }
    package var maskTokenID: TokenID { base.maskTokenID }
    package var nullTokenID: TokenID { base.nullTokenID }
    package var startTokenID: TokenID? { base.startTokenID }
    package var maxSequenceLength: Int { base.maxSequenceLength }

    /// Every batch seen so far, one entry per forward pass.
    package var batches: [[PredictionRequest]] { log.withLock { $0 } }
    /// Forward passes served so far.
    package var forwardPasses: Int { log.withLock { $0.count } }

    package func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        log.withLock { $0.append(requests) }
        return try base.predict(requests)
    }
}
