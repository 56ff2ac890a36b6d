import COpenBLAS
import Foundation

extension Transformer {
    /// Logits after recomputing only `rows` of each sequence, every other position's keys and
    /// values read from its ``KVCache`` (Fast-dLLM's approximate cache).
    ///
    /// The recomputed rows run through every layer (norms, projections, attention over all
    /// positions, MLP) as one batch across sequences; their fresh keys and values replace the
    /// cached ones, so the next call sees them. With a cache just recorded from the same tokens
    /// the result equals ``logits(sequences:outputRows:attention:recordingInto:)`` up to rounding.
    ///
    /// - Parameters:
    ///   - sequences: the full token sequences (lengths must match their caches).
    ///   - rows: per sequence, the positions to recompute (any order, no duplicates).
    ///   - outputRows: per sequence, positions whose next-token head is wanted; each must be in `rows`.
    ///   - caches: one recorded cache per sequence.
    public func cachedLogits(
        sequences: [[TokenID]], rows: [[Int]], outputRows: [[Int]], caches: [KVCache], attention: AttentionMode
    ) throws -> [LogitMatrix] {
        precondition(sequences.count == rows.count && rows.count == outputRows.count && caches.count == rows.count,
                     "one row list and cache per sequence")
        let c = config
        for (i, tokens) in sequences.enumerated() {
            // A longer sequence is allowed when every new position is recomputed (appending).
            let fresh = Set(rows[i])
            guard caches[i].length > 0, caches[i].length <= tokens.count,
                  (caches[i].length..<tokens.count).allSatisfy(fresh.contains) else {
                throw ForwardError.positionOutOfRange(index: i, position: tokens.count, length: caches[i].length)
            }
            guard tokens.count <= c.contextLength else {
                throw ForwardError.sequenceTooLong(index: i, length: tokens.count, maximum: c.contextLength)
            }
            caches[i].extend(to: tokens.count)
            for p in rows[i] where p < 0 || p >= tokens.count {
                throw ForwardError.positionOutOfRange(index: i, position: p, length: tokens.count)
            }
            for p in rows[i] where Int(tokens[p]) >= c.vocabularySize || tokens[p] < 0 {
                throw ForwardError.tokenOutOfRange(index: i, position: p, token: tokens[p], vocabularySize: c.vocabularySize)
            }
        }
        if sequences.isEmpty { return [] }
        let h = c.hiddenSize, qw = c.queryWidth, kvw = c.keyValueWidth, ff = c.intermediateSize
        let fused = qw + 2 * kvw
        let hd = c.headDimension, half = hd / 2
        let group = c.headCount / c.kvHeadCount
        let n = rows.reduce(0) { $0 + $1.count }
        let starts = rows.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let longest = sequences.map(\.count).max() ?? 0
        let maxRows = rows.map(\.count).max() ?? 0
        guard n > 0 else { return outputRows.map { _ in LogitMatrix(rows: 0, width: c.vocabularySize, values: []) } }

        let x = UnsafeMutablePointer<Float>.allocate(capacity: n * h)
        let xn = UnsafeMutablePointer<Float>.allocate(capacity: n * h)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: n * fused)
        let attn = UnsafeMutablePointer<Float>.allocate(capacity: n * qw)
        let gu = UnsafeMutablePointer<Float>.allocate(capacity: n * 2 * ff)
        let queries = UnsafeMutablePointer<Float>.allocate(capacity: group * maxRows * hd)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: group * maxRows * longest)
        let cosT = UnsafeMutablePointer<Float>.allocate(capacity: n * half)
        let sinT = UnsafeMutablePointer<Float>.allocate(capacity: n * half)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: max(weights.tileCapacity, 1))
        defer { for p in [x, xn, qkv, attn, gu, queries, scores, cosT, sinT, tile] { p.deallocate() } }

        for s in sequences.indices {
            for (r, p) in rows[s].enumerated() {
                weights.embedding.copyRow(Int(sequences[s][p]), into: x + (starts[s] + r) * h)
            }
        }
        for s in sequences.indices {
            for (r, p) in rows[s].enumerated() {
                for i in 0..<half {
                    let angle = Float(p) * Float(pow(Double(c.ropeTheta), -2 * Double(i) / Double(hd)))
                    cosT[(starts[s] + r) * half + i] = cosf(angle)
                    sinT[(starts[s] + r) * half + i] = sinf(angle)
                }
            }
        }
        let scale = 1 / Float(hd).squareRoot()
        for (layerIndex, layer) in weights.layers.enumerated() {
            normRows(x, into: xn, rows: n, weight: layer.attentionNorm)
            projectQKV(layer, xn, rows: n, into: qkv, tile: tile)
            for r in 0..<n {
                rotate(qkv + r * fused, cos: cosT + r * half, sin: sinT + r * half)
            }
            for s in sequences.indices {
                let cache = caches[s]
                for (r, p) in rows[s].enumerated() {
                    cache.store(layer: layerIndex, position: p, from: qkv + (starts[s] + r) * fused + qw)
                }
                let length = sequences[s].count
                let count = rows[s].count
                cache.withLayer(layerIndex) { keys, values in
                    for kvHead in 0..<c.kvHeadCount {
                        for g in 0..<group {
                            let head = kvHead * group + g
                            for r in 0..<count {
                                (queries + (g * count + r) * hd).update(from: qkv + (starts[s] + r) * fused + head * hd, count: hd)
                            }
                        }
                        let m = group * count
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(length), Int32(hd),
                            scale, queries, Int32(hd), keys + kvHead * hd, Int32(kvw), 0, scores, Int32(length))
                        for q in 0..<m {
                            let visible = attention == .causal ? rows[s][q % count] + 1 : length
                            FastMath.softmax(scores + q * length, count: visible, total: length)
                        }
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(hd), Int32(length),
                            1, scores, Int32(length), values + kvHead * hd, Int32(kvw), 0, queries, Int32(hd))
                        for g in 0..<group {
                            let head = kvHead * group + g
                            for r in 0..<count {
                                (attn + (starts[s] + r) * qw + head * hd).update(from: queries + (g * count + r) * hd, count: hd)
                            }
                        }
                    }
                }
            }
            outputAndMLP(layer, attn: attn, x: x, xn: xn, gateUp: gu, rows: n, tile: tile)
        }

        // Final norm and head at the wanted rows.
        var gatheredRows: [Int] = []
        for s in sequences.indices {
            var index: [Int: Int] = [:]
            for (r, p) in rows[s].enumerated() { index[p] = starts[s] + r }
            for p in outputRows[s] {
                guard let r = index[p] else {
                    throw ForwardError.positionOutOfRange(index: s, position: p, length: sequences[s].count)
                }
                gatheredRows.append(r)
            }
        }
        return headLogits(x, rows: gatheredRows, counts: outputRows.map(\.count), tile: tile)
    }
}
