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
            rows: n, hidden: h, fused: fused, query: qw, mlp: 2 * ff, longest: longest, half: half, tile: weights.tileCapacity)
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
        let headAttention = HeadAttention(headDimension: hd, groupSize: group, scale: 1 / Float(hd).squareRoot())
        let threads = BLASThreads.current
        for i in 0..<longest { scratch.positions[i] = i }
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
            // Attention per sequence and key/value head, shared out over the threads.
            var groups: [HeadAttention.Group] = []
            groups.reserveCapacity(sequences.count * c.kvHeadCount)
            for s in 0..<sequences.count {
                let length = starts[s + 1] - starts[s]
                let base = qkv + starts[s] * fused
                for kvHead in 0..<c.kvHeadCount {
                    groups.append(HeadAttention.Group(
                        queries: base + kvHead * group * hd, queryStride: fused, rows: length,
                        keys: base + qw + kvHead * hd, values: base + qw + kvw + kvHead * hd, keyValueStride: fused, length: length,
                        output: attn + starts[s] * qw + kvHead * group * hd, outputStride: qw,
                        causalPositions: attention == .causal ? UnsafePointer(scratch.positions) : nil))
                }
            }
            headAttention.run(groups, threads: threads)
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
    let x, xn, qkv, attn, gateUp, cos, sin: UnsafeMutablePointer<Float>
    /// The dequantisation tile of stored weight matrices (one float when every matrix is fp32).
    let tile: UnsafeMutablePointer<Float>
    /// 0, 1, 2, …: each row's position, for causal attention.
    let positions: UnsafeMutablePointer<Int>

    init(rows: Int, hidden: Int, fused: Int, query: Int, mlp: Int, longest: Int, half: Int, tile: Int) {
        x = .allocate(capacity: rows * hidden)
        xn = .allocate(capacity: rows * hidden)
        qkv = .allocate(capacity: rows * fused)
        attn = .allocate(capacity: rows * query)
        gateUp = .allocate(capacity: rows * mlp)
        positions = .allocate(capacity: max(longest, 1))
        cos = .allocate(capacity: longest * half)
        sin = .allocate(capacity: longest * half)
        self.tile = .allocate(capacity: max(tile, 1))
    }

    func free() {
        for p in [x, xn, qkv, attn, gateUp, cos, sin, tile] { p.deallocate() }
        positions.deallocate()
    }
}
