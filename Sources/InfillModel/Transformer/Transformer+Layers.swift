import COpenBLAS

/// The per-layer pieces both forward passes share (the full pass and the cached-rows pass).
extension Transformer {
    /// RMSNorm of `rows` rows of `x` into `xn`.
    @inline(__always)
    func normRows(_ x: UnsafeMutablePointer<Float>, into xn: UnsafeMutablePointer<Float>, rows: Int, weight: [Float]) {
        let h = config.hiddenSize, eps = config.rmsEpsilon
        weight.withUnsafeBufferPointer { w in
            for r in 0..<rows { FastMath.rmsNorm(x + r * h, weight: w.baseAddress!, into: xn + r * h, count: h, epsilon: eps) }
        }
    }

    /// `qkv = xn · W_qkvᵀ (+ bias)` for `rows` rows: the fused query/key/value projection.
    @inline(__always)
    func projectQKV(
        _ layer: LayerWeights, _ xn: UnsafeMutablePointer<Float>, rows: Int, into qkv: UnsafeMutablePointer<Float>,
        tile: UnsafeMutablePointer<Float>
    ) {
        let h = config.hiddenSize, fused = config.queryWidth + 2 * config.keyValueWidth
        layer.qkv.linear(xn, rows: rows, inputStride: h, into: qkv, outputStride: fused, accumulate: false, tile: tile,
                         threads: BLASThreads.current)
        if let bias = layer.qkvBias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let row = qkv + r * fused
                    for j in 0..<fused { row[j] += b[j] }
                }
            }
        }
    }

    /// Rotate-half RoPE on every query and key head of one fused projection row, with the
    /// position's cos/sin tables (`headDimension / 2` values each).
    @inline(__always)
    func rotate(_ row: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let hd = config.headDimension, half = hd / 2
        for head in 0..<(config.headCount + config.kvHeadCount) {
            let v = row + head * hd
            for i in 0..<half {
                let a = v[i], b = v[i + half]
                v[i] = a * cos[i] - b * sin[i]
                v[i + half] = b * cos[i] + a * sin[i]
            }
        }
    }

    /// The rest of a layer after attention: `x += attn · W_oᵀ`, then the SwiGLU MLP residual.
    @inline(__always)
    func outputAndMLP(
        _ layer: LayerWeights, attn: UnsafeMutablePointer<Float>, x: UnsafeMutablePointer<Float>,
        xn: UnsafeMutablePointer<Float>, gateUp gu: UnsafeMutablePointer<Float>, rows: Int, tile: UnsafeMutablePointer<Float>
    ) {
        let h = config.hiddenSize, ff = config.intermediateSize, qw = config.queryWidth
        let threads = BLASThreads.current
        layer.output.linear(attn, rows: rows, inputStride: qw, into: x, outputStride: h, accumulate: true, tile: tile, threads: threads)
        normRows(x, into: xn, rows: rows, weight: layer.mlpNorm)
        layer.gateUp.linear(xn, rows: rows, inputStride: h, into: gu, outputStride: 2 * ff, accumulate: false, tile: tile, threads: threads)
        for r in 0..<rows {
            let row = gu + r * 2 * ff
            FastMath.swiGLU(gate: row, up: row + ff, count: ff)
        }
        // The gated half of each row (its first ff values) is the down projection's input.
        layer.down.linear(gu, rows: rows, inputStride: 2 * ff, into: x, outputStride: h, accumulate: true, tile: tile, threads: threads)
    }

    /// Final norm and head at the given rows of `x`, split into one matrix per entry of `counts`.
    func headLogits(_ x: UnsafeMutablePointer<Float>, rows: [Int], counts: [Int], tile: UnsafeMutablePointer<Float>) -> [LogitMatrix] {
        let h = config.hiddenSize, vocabulary = config.vocabularySize
        let wanted = rows.count
        var all = [Float](repeating: 0, count: wanted * vocabulary)
        if wanted > 0 {
            let gathered = UnsafeMutablePointer<Float>.allocate(capacity: wanted * h)
            defer { gathered.deallocate() }
            weights.finalNorm.withUnsafeBufferPointer { w in
                for (k, r) in rows.enumerated() {
                    FastMath.rmsNorm(x + r * h, weight: w.baseAddress!, into: gathered + k * h, count: h, epsilon: config.rmsEpsilon)
                }
            }
            all.withUnsafeMutableBufferPointer { out in
                (weights.head ?? weights.embedding).linear(
                    gathered, rows: wanted, inputStride: h, into: out.baseAddress!, outputStride: vocabulary, accumulate: false,
                    tile: tile, threads: BLASThreads.current)
            }
        }
        var results: [LogitMatrix] = []
        results.reserveCapacity(counts.count)
        var offset = 0
        for count in counts {
            let n = count * vocabulary
            results.append(LogitMatrix(rows: count, width: vocabulary, values: Array(all[offset..<(offset + n)])))
            offset += n
        }
        return results
    }
}
