import Foundation

/// The autoregressive model a diffusion model was initialised from, asked for the next token
/// after a prefix.
///
/// The sampler's parent guidance multiplies the denoiser's distribution at the leftmost masked
/// position of a field with this model's next-token distribution there (see
/// `docs/SAMPLING.md`): the denoiser sees both sides of the gap, the parent has the fluency of
/// its full pre-training. Prefixes only ever grow during a sampling run, so each run keeps one
/// ``KVCache`` and every call appends the new tokens to it.
public protocol ParentModel: Sendable {
    /// Number of logits per row (the parent's vocabulary).
    var logitWidth: Int { get }
    /// Longest prefix the model accepts.
    var maxSequenceLength: Int { get }

    /// The next-token logits after each prefix, in one batched pass.
    ///
    /// - Parameters:
    ///   - prefixes: non-empty token sequences.
    ///   - caches: one per prefix, empty or holding the keys and values of an earlier prefix of
    ///     the same sequence; each is extended to cover its whole prefix.
    /// - Returns: one single-row ``LogitMatrix`` per prefix.
    func nextTokenLogits(after prefixes: [[TokenID]], caches: [KVCache]) throws -> [LogitMatrix]

    /// The negative log-likelihood (nats) of every token of `sequence` from index `start` on,
    /// each given the tokens before it: how the parent judges a finished canvas (for choosing
    /// among candidates). `start` must be at least 1.
    func tokenNLLs(of sequence: [TokenID], from start: Int) throws -> [Double]
}

extension ParentModel {
    /// One next-token query per scored position (a parent without a faster way).
    public func tokenNLLs(of sequence: [TokenID], from start: Int) throws -> [Double] {
        let positions = Array(max(1, start)..<sequence.count)
        guard !positions.isEmpty else { return [] }
        let logits = try nextTokenLogits(after: positions.map { Array(sequence[..<$0]) }, caches: positions.map { _ in KVCache() })
        return zip(positions, logits).map { p, row in Self.nll(of: sequence[p], in: row[row: 0]) }
    }

    /// −log softmax(row)[token], in double precision.
    static func nll(of token: TokenID, in row: ArraySlice<Float>) -> Double {
        let top = Double(row.max() ?? 0)
        var sum = 0.0
        for v in row { sum += exp(Double(v) - top) }
        return -(Double(row[row.startIndex + Int(token)]) - top - log(sum))
    }
}

/// A ``Transformer`` run with causal attention as a ``ParentModel``: the default model's base
/// weights without the diffusion adapter.
public struct CausalParent: ParentModel {
    public let transformer: Transformer

    public init(transformer: Transformer) {
        self.transformer = transformer
    }

    public var logitWidth: Int { transformer.config.vocabularySize }
    public var maxSequenceLength: Int { transformer.config.contextLength }

    public func nextTokenLogits(after prefixes: [[TokenID]], caches: [KVCache]) throws -> [LogitMatrix] {
        precondition(prefixes.count == caches.count, "one cache per prefix")
        var out = [LogitMatrix?](repeating: nil, count: prefixes.count)
        let fresh = prefixes.indices.filter { caches[$0].length == 0 || caches[$0].length > prefixes[$0].count }
        let grown = prefixes.indices.filter { !fresh.contains($0) }
        if !fresh.isEmpty {
            let result = try transformer.logits(
                sequences: fresh.map { prefixes[$0] }, outputRows: fresh.map { [prefixes[$0].count - 1] },
                attention: .causal, recordingInto: fresh.map { caches[$0] })
            for (k, i) in fresh.enumerated() { out[i] = result[k] }
        }
        if !grown.isEmpty {
            // Recompute the new positions (at least the last, whose output is wanted).
            let rows = grown.map { i in Array(min(caches[i].length, prefixes[i].count - 1)..<prefixes[i].count) }
            let result = try transformer.cachedLogits(
                sequences: grown.map { prefixes[$0] }, rows: rows, outputRows: grown.map { [prefixes[$0].count - 1] },
                caches: grown.map { caches[$0] }, attention: .causal)
            for (k, i) in grown.enumerated() { out[i] = result[k] }
        }
        return out.compactMap { $0 }
    }

    /// All positions in one causal pass.
    public func tokenNLLs(of sequence: [TokenID], from start: Int) throws -> [Double] {
        let first = max(1, start)
        guard first < sequence.count else { return [] }
        let scored = Array(sequence.prefix(transformer.config.contextLength))
        guard first < scored.count else { return [] }
        let logits = try transformer.logits(sequences: [scored], outputRows: [Array((first - 1)..<(scored.count - 1))],
                                            attention: .causal)[0]
        return (first..<scored.count).map { p in Self.nll(of: scored[p], in: logits[row: p - first]) }
    }
}
