/// A ``Transformer`` driven as a masked-diffusion denoiser: the ``DenoisingModel`` the sampler uses.
///
/// With ``logitShift`` (Dream's convention) the distribution of the token at position `i` is the
/// output at `i − 1`; position 0 reads its own output.
public struct TransformerModel: CachingDenoisingModel {
    public let transformer: Transformer
    /// Attention used by ``predict(_:)``.
    public let attention: AttentionMode
    /// Whether position `i` is read from output `i − 1`.
    public let logitShift: Bool
    public let maskTokenID: TokenID
    public let nullTokenID: TokenID
    public let samplableVocabularySize: Int
    public let startTokenID: TokenID?

    public init(
        transformer: Transformer, attention: AttentionMode, logitShift: Bool, maskTokenID: TokenID,
        nullTokenID: TokenID, samplableVocabularySize: Int? = nil, startTokenID: TokenID? = nil
    ) {
        self.startTokenID = startTokenID
        self.transformer = transformer
        self.attention = attention
        self.logitShift = logitShift
        self.maskTokenID = maskTokenID
        self.nullTokenID = nullTokenID
        self.samplableVocabularySize = min(samplableVocabularySize ?? transformer.config.vocabularySize, transformer.config.vocabularySize)
    }

    public var logitWidth: Int { transformer.config.vocabularySize }
    public var maxSequenceLength: Int { transformer.config.contextLength }

    public func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        let rows = requests.map { request in
            request.positions.map { p in logitShift ? Swift.max(p - 1, 0) : p }
        }
        for (i, request) in requests.enumerated() {
            for p in request.positions where p < 0 || p >= request.tokens.count {
                throw ForwardError.positionOutOfRange(index: i, position: p, length: request.tokens.count)
            }
        }
        return try transformer.logits(sequences: requests.map(\.tokens), outputRows: rows, attention: attention)
    }

    public func predict(_ requests: [PredictionRequest], recordingInto caches: [KVCache]) throws -> [LogitMatrix] {
        let rows = try outputRows(requests)
        return try transformer.logits(sequences: requests.map(\.tokens), outputRows: rows, attention: attention, recordingInto: caches)
    }

    public func predict(_ requests: [PredictionRequest], recomputing: [[Int]], caches: [KVCache]) throws -> [LogitMatrix] {
        let out = try outputRows(requests)
        let rows = zip(recomputing, out).map { recompute, wanted in Array(Set(recompute).union(wanted)).sorted() }
        return try transformer.cachedLogits(
            sequences: requests.map(\.tokens), rows: rows, outputRows: out, caches: caches, attention: attention)
    }

    /// The output row of each requested position (the previous row under the logit shift).
    private func outputRows(_ requests: [PredictionRequest]) throws -> [[Int]] {
        for (i, request) in requests.enumerated() {
            for p in request.positions where p < 0 || p >= request.tokens.count {
                throw ForwardError.positionOutOfRange(index: i, position: p, length: request.tokens.count)
            }
        }
        return requests.map { request in request.positions.map { p in logitShift ? Swift.max(p - 1, 0) : p } }
    }
}
