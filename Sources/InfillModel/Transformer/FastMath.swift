/// Branch-free elementwise math for the forward pass's hot loops.
///
/// `expf` from libm is a call per element; these loops compile to straight-line code the
/// optimiser can vectorise, which matters for softmax over L² scores and SiLU over the MLP width.
enum FastMath {
    /// e^x with relative error below 2e-7 on [-87, 88] (Cody–Waite reduction, degree-6 polynomial).
    @inline(__always)
    static func exp(_ value: Float) -> Float {
        let x = Swift.min(Swift.max(value, -87.3), 88.0)
        let n = (x * 1.442_695_04).rounded()
        // r = x - n·ln2 in two parts so the reduction stays exact to float precision.
        let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
        var p: Float = 1.987_569_1e-4
        p = p * r + 1.398_199_9e-3
        p = p * r + 8.333_452e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 0.166_666_65
        p = p * r + 0.5
        p = p * r * r + r + 1
        return p * Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
    }

    /// Softmax of `values[0..<count]` in place; entries `count..<total` are set to zero.
    @inline(__always)
    static func softmax(_ values: UnsafeMutablePointer<Float>, count: Int, total: Int) {
        var maximum = -Float.infinity
        for j in 0..<count { maximum = Swift.max(maximum, values[j]) }
        var sum: Float = 0
        for j in 0..<count {
            let e = exp(values[j] - maximum)
            values[j] = e
            sum += e
        }
        let scale = 1 / sum
        for j in 0..<count { values[j] *= scale }
        for j in count..<total { values[j] = 0 }
    }

    /// out = x / rms(x) · weight for one row of `count` values.
    @inline(__always)
    static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
        count: Int, epsilon: Float
    ) {
        var sum: Float = 0
        for j in 0..<count { sum += x[j] * x[j] }
        let scale = 1 / (sum / Float(count) + epsilon).squareRoot()
        for j in 0..<count { out[j] = x[j] * scale * weight[j] }
    }
}
