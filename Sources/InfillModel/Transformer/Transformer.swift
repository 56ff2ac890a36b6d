import COpenBLAS
import Foundation

/// How positions attend to each other.
public enum AttentionMode: String, Sendable, CaseIterable {
    /// Each position sees itself and earlier positions (autoregressive).
    case causal
    /// Each position sees the whole sequence (masked diffusion).
    case bidirectional
}

/// Invalid input to a forward pass.
public enum ForwardError: Error, CustomStringConvertible, Equatable {
    case emptySequence(index: Int)
    case sequenceTooLong(index: Int, length: Int, maximum: Int)
    case tokenOutOfRange(index: Int, position: Int, token: TokenID, vocabularySize: Int)
    case positionOutOfRange(index: Int, position: Int, length: Int)

    public var description: String {
        switch self {
        case .emptySequence(let i): "sequence \(i) is empty"
        case .sequenceTooLong(let i, let n, let m): "sequence \(i) has \(n) tokens, more than the maximum \(m)"
        case .tokenOutOfRange(let i, let p, let t, let v): "sequence \(i), position \(p): token id \(t) is outside the vocabulary (0..<\(v))"
        case .positionOutOfRange(let i, let p, let n): "sequence \(i): requested position \(p) is outside 0..<\(n)"
        }
    }
}

/// A Llama/Qwen2-family decoder run in fp32 on OpenBLAS.
///
/// Immutable and `Sendable`: one instance serves every worker. Each forward pass allocates its
/// scratch once and runs every linear layer of the whole batch as one `cblas_sgemm`; attention
/// is two `sgemm`s per sequence and head reading q/k/v in place from the fused projection.
public struct Transformer: Sendable {
    public let config: TransformerConfig
    public let weights: TransformerWeights

    public init(config: TransformerConfig, weights: TransformerWeights) {
        self.config = config
        self.weights = weights
    }

    /// Logits at chosen output rows of several sequences, run as one batch.
    ///
    /// - Parameters:
    ///   - sequences: token ids per sequence (lengths may differ; no padding is computed).
    ///   - outputRows: per sequence, the positions whose *output* (next-token head) is wanted.
    ///   - attention: causal or bidirectional.
    ///   - caches: when given (one per sequence), every layer's keys and values are recorded into
    ///     them for ``cachedLogits(sequences:rows:outputRows:caches:attention:)``.
    /// - Returns: one ``LogitMatrix`` per sequence with `outputRows[s].count` rows of `vocabularySize`.
    public func logits(
        sequences: [[TokenID]], outputRows: [[Int]], attention: AttentionMode, recordingInto caches: [KVCache]? = nil
    ) throws -> [LogitMatrix] {
        precondition(sequences.count == outputRows.count, "one row list per sequence")
        precondition(caches == nil || caches?.count == sequences.count, "one cache per sequence")
        let c = config
        for (i, tokens) in sequences.enumerated() {
            guard !tokens.isEmpty else { throw ForwardError.emptySequence(index: i) }
            guard tokens.count <= c.contextLength else {
                throw ForwardError.sequenceTooLong(index: i, length: tokens.count, maximum: c.contextLength)
            }
            for (p, t) in tokens.enumerated() where t < 0 || Int(t) >= c.vocabularySize {
                throw ForwardError.tokenOutOfRange(index: i, position: p, token: t, vocabularySize: c.vocabularySize)
            }
            for p in outputRows[i] where p < 0 || p >= tokens.count {
                throw ForwardError.positionOutOfRange(index: i, position: p, length: tokens.count)
            }
        }
        if sequences.isEmpty { return [] }

        let h = c.hiddenSize, qw = c.queryWidth, kvw = c.keyValueWidth, ff = c.intermediateSize
        let fused = qw + 2 * kvw
        let hd = c.headDimension, half = hd / 2
        let n = sequences.reduce(0) { $0 + $1.count }
        let longest = sequences.map(\.count).max() ?? 0
        let starts = sequences.reduce(into: [0]) { $0.append($0.last! + $1.count) }

        let group = c.headCount / c.kvHeadCount
        let scratch = Scratch(
            rows: n, hidden: h, fused: fused, query: qw, mlp: 2 * ff, longest: longest, half: half, group: group, headDimension: hd,
            tile: weights.tileCapacity)
        defer { scratch.free() }
        let x = scratch.x, xn = scratch.xn, qkv = scratch.qkv, attn = scratch.attn, gu = scratch.gateUp

        // Embedding lookup.
        var row = 0
        for tokens in sequences {
            for t in tokens {
                weights.embedding.copyRow(Int(t), into: x + row * h)
                row += 1
            }
        }
        // RoPE table: angle(pos, i) = pos · θ^(-2i/hd).
        for i in 0..<half {
            let frequency = Float(pow(Double(c.ropeTheta), -2 * Double(i) / Double(hd)))
            for pos in 0..<longest {
                let angle = Float(pos) * frequency
                scratch.cos[pos * half + i] = cosf(angle)
                scratch.sin[pos * half + i] = sinf(angle)
            }
        }

        if let caches {
            for (s, cache) in caches.enumerated() { cache.reset(length: sequences[s].count, config: c) }
        }
        let scale = 1 / Float(hd).squareRoot()
        for (layerIndex, layer) in weights.layers.enumerated() {
            normRows(x, into: xn, rows: n, weight: layer.attentionNorm)
            projectQKV(layer, xn, rows: n, into: qkv, tile: scratch.tile)
            // Rotate-half RoPE on every q and k head, position counted within each sequence.
            for s in 0..<sequences.count {
                for pos in 0..<(starts[s + 1] - starts[s]) {
                    let row = qkv + (starts[s] + pos) * fused
                    rotate(row, cos: scratch.cos + pos * half, sin: scratch.sin + pos * half)
                }
            }
            if let caches {
                for (s, cache) in caches.enumerated() {
                    for pos in 0..<(starts[s + 1] - starts[s]) {
                        cache.store(layer: layerIndex, position: pos, from: qkv + (starts[s] + pos) * fused + qw)
                    }
                }
            }
            // Attention per sequence and key/value head: the query heads sharing a key/value head
            // are stacked into one [group·L, hd] block so each group is two larger sgemms.
            for s in 0..<sequences.count {
                let length = starts[s + 1] - starts[s]
                let base = qkv + starts[s] * fused
                for kvHead in 0..<c.kvHeadCount {
                    for g in 0..<group {
                        let head = kvHead * group + g
                        for i in 0..<length {
                            (scratch.queries + (g * length + i) * hd).update(from: base + i * fused + head * hd, count: hd)
                        }
                    }
                    let k = base + qw + kvHead * hd
                    let v = base + qw + kvw + kvHead * hd
                    // Query rows in blocks, so the score buffer stays small for long canvases.
                    var first = 0
                    while first < group * length {
                        let count = min(Scratch.scoreRows, group * length - first)
                        let block = scratch.queries + first * hd
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(length), Int32(hd),
                            scale, block, Int32(hd), k, Int32(fused), 0, scratch.scores, Int32(length))
                        for r in 0..<count {
                            let i = (first + r) % length
                            let visible = attention == .causal ? i + 1 : length
                            FastMath.softmax(scratch.scores + r * length, count: visible, total: length)
                        }
                        // The block's queries are no longer needed: its outputs overwrite them.
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(length),
                            1, scratch.scores, Int32(length), v, Int32(fused), 0, block, Int32(hd))
                        first += count
                    }
                    for g in 0..<group {
                        let head = kvHead * group + g
                        for i in 0..<length {
                            (attn + (starts[s] + i) * qw + head * hd).update(from: scratch.queries + (g * length + i) * hd, count: hd)
                        }
                    }
                }
            }
            outputAndMLP(layer, attn: attn, x: x, xn: xn, gateUp: gu, rows: n, tile: scratch.tile)
        }

        // Final norm and head only at the requested rows.
        let rows = sequences.indices.flatMap { s in outputRows[s].map { starts[s] + $0 } }
        return headLogits(x, rows: rows, counts: outputRows.map(\.count), tile: scratch.tile)
    }

    /// Floating-point operations of one ``logits(sequences:outputRows:attention:)`` call, counting
    /// what this implementation computes (full L×L scores also in causal mode).
    public func flops(sequenceLengths: [Int], outputRowCount: Int) -> Double {
        let c = config
        let n = Double(sequenceLengths.reduce(0, +))
        let perToken = 2.0 * Double(c.hiddenSize) * Double(c.queryWidth + 2 * c.keyValueWidth + c.queryWidth + 3 * c.intermediateSize)
        var total = n * perToken * Double(c.layerCount)
        for length in sequenceLengths {
            total += 4.0 * Double(length * length) * Double(c.headDimension) * Double(c.headCount) * Double(c.layerCount)
        }
        total += 2.0 * Double(outputRowCount) * Double(c.hiddenSize) * Double(c.vocabularySize)
        return total
    }
}

/// Scratch buffers of one forward pass, allocated once per call.
private struct Scratch {
    let x, xn, qkv, attn, gateUp, scores, queries, cos, sin: UnsafeMutablePointer<Float>
    /// The dequantisation tile of stored weight matrices (one float when every matrix is fp32).
    let tile: UnsafeMutablePointer<Float>
    /// Query rows whose attention scores are held at once.
    static let scoreRows = 768

    init(rows: Int, hidden: Int, fused: Int, query: Int, mlp: Int, longest: Int, half: Int, group: Int, headDimension: Int, tile: Int) {
        x = .allocate(capacity: rows * hidden)
        xn = .allocate(capacity: rows * hidden)
        qkv = .allocate(capacity: rows * fused)
        attn = .allocate(capacity: rows * query)
        gateUp = .allocate(capacity: rows * mlp)
        scores = .allocate(capacity: min(Self.scoreRows, group * longest) * longest)
        queries = .allocate(capacity: group * longest * headDimension)
        cos = .allocate(capacity: longest * half)
        sin = .allocate(capacity: longest * half)
        self.tile = .allocate(capacity: max(tile, 1))
    }

    func free() {
        for p in [x, xn, qkv, attn, gateUp, scores, queries, cos, sin, tile] { p.deallocate() }
    }
}
