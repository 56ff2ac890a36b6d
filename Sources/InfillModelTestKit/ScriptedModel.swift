import InfillModel
import Synchronization

/// A ``DenoisingModel`` whose logits come from a closure: a test double for the sampler and above.
///
/// It counts forward passes (one per ``predict(_:)`` call, whatever the batch size) so tests can
/// compare them with the sampler's own count.
package final class ScriptedModel: DenoisingModel {
    /// Computes the logit row for `position` of `tokens`; must return ``logitWidth`` values.
    package typealias Script = @Sendable (_ tokens: [TokenID], _ position: Int) -> [Float]

    package let logitWidth: Int
    package let samplableVocabularySize: Int
    package let maskTokenID: TokenID
    package let nullTokenID: TokenID
    package let maxSequenceLength: Int
    private let script: Script
    private let calls = Mutex<(passes: Int, rows: Int)>((0, 0))

    package init(
        logitWidth: Int,
        samplableVocabularySize: Int? = nil,
        maskTokenID: TokenID,
        nullTokenID: TokenID,
        maxSequenceLength: Int = 4096,
        script: @escaping Script
    ) {
        self.logitWidth = logitWidth
        self.samplableVocabularySize = samplableVocabularySize ?? logitWidth
        self.maskTokenID = maskTokenID
        self.nullTokenID = nullTokenID
        self.maxSequenceLength = maxSequenceLength
        self.script = script
    }

    /// Forward passes served so far.
    package var forwardPasses: Int { calls.withLock { $0.passes } }
    /// Logit rows computed so far.
    package var rowsComputed: Int { calls.withLock { $0.rows } }

    package func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        var out: [LogitMatrix] = []
        out.reserveCapacity(requests.count)
        var rows = 0
        for request in requests {
            var values: [Float] = []
            values.reserveCapacity(request.positions.count * logitWidth)
            for position in request.positions {
                let row = script(request.tokens, position)
                precondition(row.count == logitWidth, "ScriptedModel: script returned \(row.count) logits")
                values.append(contentsOf: row)
            }
            rows += request.positions.count
            out.append(LogitMatrix(rows: request.positions.count, width: logitWidth, values: values))
        }
        calls.withLock { $0.passes += 1; $0.rows += rows }
        return out
    }
}

extension ScriptedModel {
    /// A model over ``ByteTokenizer`` that always predicts the bytes of `text`, cycled by position,
    /// with logit `confidence` for the predicted byte and 0 for every other token.
    ///
    /// Filled gaps read like slices of `text`, which keeps document and daemon tests readable.
    package static func echoing(_ text: String, confidence: Float = 8) -> ScriptedModel {
        let bytes = Array(text.utf8)
        let width = ByteTokenizer().vocabularySize
        return ScriptedModel(
            logitWidth: width,
            maskTokenID: ByteTokenizer.mask,
            nullTokenID: ByteTokenizer.endOfText
        ) { _, position in
            var row = [Float](repeating: 0, count: width)
            row[Int(bytes[position % bytes.count])] = confidence
            return row
        }
    }
}
