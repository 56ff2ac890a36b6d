import InfillModel

/// A ``DenoisingModel`` with deterministic pseudo-random logits: a varied, reproducible test
/// double for properties that must hold whatever the model prefers (pins, bans, keywords, nulls).
///
/// Logits depend on the position, the tokens right beside it and a `salt`; a few ids can be given
/// a fixed boost (for example the null token, to exercise variable-length gaps).
package struct HashedLogitsModel: DenoisingModel {
    package let logitWidth: Int
    package let samplableVocabularySize: Int
    package let maskTokenID: TokenID
    package let nullTokenID: TokenID
    package let maxSequenceLength: Int
    /// Mixed into every logit so different salts behave like different models.
    package let salt: UInt64
    /// Spread of the logits: larger = more peaked distributions.
    package let scale: Float
    /// Added to these ids' logits everywhere.
    package let boosts: [TokenID: Float]

    package init(
        logitWidth: Int = ByteTokenizer().vocabularySize, samplableVocabularySize: Int? = nil,
        maskTokenID: TokenID = ByteTokenizer.mask, nullTokenID: TokenID = ByteTokenizer.endOfText,
        maxSequenceLength: Int = 4096, salt: UInt64 = 1, scale: Float = 4, boosts: [TokenID: Float] = [:]
    ) {
        self.logitWidth = logitWidth
        self.samplableVocabularySize = samplableVocabularySize ?? logitWidth
        self.maskTokenID = maskTokenID
        self.nullTokenID = nullTokenID
        self.maxSequenceLength = maxSequenceLength
        self.salt = salt
        self.scale = scale
        self.boosts = boosts
    }

    package func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        requests.map { request in
            var values = [Float](repeating: 0, count: request.positions.count * logitWidth)
            for (row, position) in request.positions.enumerated() {
                let left = position > 0 ? UInt64(bitPattern: Int64(request.tokens[position - 1])) : 0xFFFF
                let right = position + 1 < request.tokens.count ? UInt64(bitPattern: Int64(request.tokens[position + 1])) : 0xFFFF
                var h = Self.mix(salt ^ Self.mix(UInt64(position) &+ (left << 20) &+ (right << 40)))
                for id in 0..<logitWidth {
                    h = Self.mix(h &+ UInt64(id))
                    values[row * logitWidth + id] = scale * (Float(h >> 40) / Float(1 << 24))
                }
                for (id, boost) in boosts where id >= 0 && Int(id) < logitWidth {
                    values[row * logitWidth + Int(id)] += boost
                }
            }
            return LogitMatrix(rows: request.positions.count, width: logitWidth, values: values)
        }
    }

    /// SplitMix64's finaliser: a cheap, well-mixed hash step.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
