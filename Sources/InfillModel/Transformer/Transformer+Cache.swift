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
        guard n > 0 else { return outputRows.map { _ in LogitMatrix(rows: 0, width: c.vocabularySize, values: []) } }

        let x = UnsafeMutablePointer<Float>.allocate(capacity: n * h)
        let xn = UnsafeMutablePointer<Float>.allocate(capacity: n * h)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: n * fused)
        let attn = UnsafeMutablePointer<Float>.allocate(capacity: n * qw)
        let gu = UnsafeMutablePointer<Float>.allocate(capacity: n * 2 * ff)
        let positions = UnsafeMutablePointer<Int>.allocate(capacity: n)
        let cosT = UnsafeMutablePointer<Float>.allocate(capacity: n * half)
        let sinT = UnsafeMutablePointer<Float>.allocate(capacity: n * half)
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: max(weights.tileCapacity, 1))
        defer {
            for p in [x, xn, qkv, attn, gu, cosT, sinT, tile] { p.deallocate() }
            positions.deallocate()
        }
        for s in sequences.indices {
            for (r, p) in rows[s].enumerated() { positions[starts[s] + r] = p }
        }

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
        let headAttention = HeadAttention(headDimension: hd, groupSize: group, scale: 1 / Float(hd).squareRoot())
        let threads = BLASThreads.current
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
            }
            // The recomputed rows against every cached key and value, the heads shared out over the threads.
            withLayers(caches[...], layerIndex) { layers in
                var groups: [HeadAttention.Group] = []
                groups.reserveCapacity(sequences.count * c.kvHeadCount)
                for s in sequences.indices {
                    for kvHead in 0..<c.kvHeadCount {
                        groups.append(HeadAttention.Group(
                            queries: qkv + starts[s] * fused + kvHead * group * hd, queryStride: fused, rows: rows[s].count,
                            keys: layers[s].keys + kvHead * hd, values: layers[s].values + kvHead * hd, keyValueStride: kvw,
                            length: sequences[s].count, output: attn + starts[s] * qw + kvHead * group * hd, outputStride: qw,
                            causalPositions: attention == .causal ? UnsafePointer(positions + starts[s]) : nil))
                    }
                }
                headAttention.run(groups, threads: threads)
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

    /// Every cache's keys and values of `layer` (the caches' order), valid inside `body`.
    private func withLayers<R>(
        _ caches: ArraySlice<KVCache>, _ layer: Int,
        collected: [(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)] = [],
        _ body: ([(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>)]) -> R
    ) -> R {
        guard let first = caches.first else { return body(collected) }
        return first.withLayer(layer) { keys, values in
            withLayers(caches.dropFirst(), layer, collected: collected + [(keys, values)], body)
        }
    }
}
