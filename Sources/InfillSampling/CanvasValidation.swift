import InfillModel

extension Canvas {
    /// Throws ``SamplingError/invalidCanvas(canvas:_:)`` naming the first problem for `model`.
    ///
    /// - Parameter index: the canvas's index in its batch, for the message.
    public func validate(for model: any DenoisingModel, index: Int = 0) throws {
        func fail(_ message: String) -> SamplingError { .invalidCanvas(canvas: index, message) }
        let width = model.logitWidth
        let samplable = min(width, model.samplableVocabularySize)
        let mask = model.maskTokenID
        if tokens.count > model.maxSequenceLength {
            throw fail("\(tokens.count) tokens exceed the model's context of \(model.maxSequenceLength)")
        }
        for (p, id) in tokens.enumerated() where id != mask && (id < 0 || Int(id) >= width) {
            throw fail("position \(p) holds id \(id), outside the vocabulary 0..<\(width)")
        }
        for (p, id) in pins.sorted(by: { $0.key < $1.key }) {
            guard p >= 0 && p < tokens.count else { throw fail("pin at position \(p) is outside the canvas (0..<\(tokens.count))") }
            guard id >= 0 && Int(id) < samplable && id != mask else { throw fail("pin at position \(p) has invalid id \(id)") }
        }
        var owner = [Int](repeating: -1, count: tokens.count)
        for (g, gap) in gaps.enumerated() {
            guard gap.range.lowerBound >= 0 && gap.range.upperBound <= tokens.count else {
                throw fail("gap \(g) \(gap.range) is outside the canvas (0..<\(tokens.count))")
            }
            for p in gap.range {
                if owner[p] >= 0 { throw fail("gaps \(owner[p]) and \(g) overlap at position \(p)") }
                owner[p] = g
                if tokens[p] != mask && pins[p] == nil {
                    throw fail("gap \(g) position \(p) holds id \(tokens[p]), not the mask token \(mask)")
                }
            }
            let c = gap.constraints
            guard c.minTokens >= 0 && c.minTokens <= gap.range.count else {
                throw fail("gap \(g): min tokens \(c.minTokens) is outside 0...\(gap.range.count)")
            }
            for (k, keyword) in c.keywords.enumerated() {
                if keyword.isEmpty { throw fail("gap \(g): keyword \(k) has no tokens") }
                if let bad = keyword.first(where: { $0 < 0 || Int($0) >= samplable || $0 == mask }) {
                    throw fail("gap \(g): keyword \(k) holds invalid id \(bad)")
                }
            }
            if let k = c.bannedSequences.firstIndex(where: \.isEmpty) {
                throw fail("gap \(g): banned sequence \(k) has no tokens")
            }
            if let bad = c.logitBias.first(where: { $0.value.isNaN || $0.value == .infinity }) {
                throw fail("gap \(g): logit bias of id \(bad.key) is \(bad.value) (use a finite value, or −∞ to exclude the token)")
            }
        }
    }
}
