/// Vectorisable elementwise math for the per-row work of sampling (softmax over the vocabulary).
enum SamplingMath {
    /// e^x with relative error about 2e-7; exactly 0 below −87 (so −∞ logits get probability 0).
    ///
    /// Range reduction x = n·ln2 + r with ln2 split in two parts, then Cephes' degree-6
    /// polynomial for e^r; no libm call, so loops over it vectorise.
    @inline(__always)
    static func exp(_ value: Float) -> Float {
        // Clamped so the exponent bits never overflow; written so NaN lands on −87 instead of trapping.
        let x: Float = value > -87 ? (value < 88 ? value : 88) : -87
        let n = (x * 1.442_695_04).rounded()
        let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
        var p: Float = 1.987_569_2e-4
        p = p * r + 1.398_199_9e-3
        p = p * r + 8.333_452e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 0.166_666_65
        p = p * r + 0.5
        p = p * r * r + r + 1
        let scaled = p * Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
        return value < -87 ? 0 : scaled
    }

    /// Softmax in place; returns the maximum and the sum of `e^(v − max)`, or `nil` when every
    /// value is −∞.
    static func softmax(_ v: inout [Float]) -> (max: Float, sum: Float)? {
        v.withUnsafeMutableBufferPointer { buf -> (max: Float, sum: Float)? in
            var m = -Float.infinity
            for x in buf { m = Swift.max(m, x) }
            guard m > -.infinity else { return nil }
            var sum: Float = 0
            for i in buf.indices {
                let e = exp(buf[i] - m)
                buf[i] = e
                sum += e
            }
            let inv = 1 / sum
            for i in buf.indices { buf[i] *= inv }
            return (m, sum)
        }
    }

    /// The maximum and the sum of `e^(v − max)` without changing `v` (`nil` when all are −∞).
    static func maxAndExpSum(_ v: [Float]) -> (max: Float, sum: Float)? {
        v.withUnsafeBufferPointer { buf -> (max: Float, sum: Float)? in
            var m = -Float.infinity
            for x in buf { m = Swift.max(m, x) }
            guard m > -.infinity else { return nil }
            var sum: Float = 0
            for x in buf { sum += exp(x - m) }
            return (m, sum)
        }
    }
}
