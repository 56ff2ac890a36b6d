/// Vectorised elementwise math for the forward pass's hot loops.
///
/// `expf` from libm is a call per element and float reductions do not auto-vectorise (no
/// reassociation), so softmax over L² scores and SiLU over the MLP width are written with
/// explicit `SIMD8<Float>` lanes.
enum FastMath {
    typealias Vector = SIMD8<Float>

    /// e^x for eight lanes (``FastExp``).
    @inline(__always)
    static func exp(_ value: Vector) -> Vector {
        FastExp.exp(value)
    }

    /// Scalar e^x with the same accuracy, for the tails of the vector loops.
    @inline(__always)
    static func exp(_ value: Float) -> Float {
        FastExp.exp(value)
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(p).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
    }

    /// Softmax of `values[0..<count]` in place; entries `count..<total` are set to zero.
    @inline(__always)
    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int, total: Int) {
        let whole = count & ~7
        var vmax = Vector(repeating: -.infinity)
        var j = 0
        while j < whole {
            let v = load(values + j)
            vmax.replace(with: v, where: v .> vmax)
            j += 8
        }
        var maximum = vmax.max()
        for k in whole..<count { maximum = Swift.max(maximum, values[k]) }
        let shift = Vector(repeating: maximum)
        var vsum = Vector.zero
        j = 0
        while j < whole {
            let e = exp(load(values + j) - shift)
            store(e, values + j)
            vsum += e
            j += 8
        }
        var sum = vsum.sum()
        for k in whole..<count {
            let e = exp(values[k] - maximum)
            values[k] = e
            sum += e
        }
        let scale = 1 / sum
        for k in 0..<count { values[k] *= scale }
        for k in count..<total { values[k] = 0 }
    }

    /// out = x / rms(x) · weight for one row of `count` values.
    @inline(__always)
    static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        count: Int, epsilon: Float
    ) {
        let whole = count & ~7
        var vsum = Vector.zero
        var j = 0
        while j < whole {
            let v = load(x + j)
            vsum += v * v
            j += 8
        }
        var sum = vsum.sum()
        for k in whole..<count { sum += x[k] * x[k] }
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        for k in 0..<count { out[k] = x[k] * scale * weight[k] }
    }

    /// gate[j] = silu(gate[j]) · up[j] for `count` values.
    @inline(__always)
    static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
        let whole = count & ~7
        var j = 0
        while j < whole {
            let g = load(gate + j)
            store(g / (1 + exp(-g)) * load(up + j), gate + j)
            j += 8
        }
        for k in whole..<count {
            let g = gate[k]
            gate[k] = g / (1 + exp(-g)) * up[k]
        }
    }
}
