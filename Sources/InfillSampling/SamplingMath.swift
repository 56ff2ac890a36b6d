import InfillModel

/// Vectorisable elementwise math for the per-row work of sampling (softmax over the vocabulary).
enum SamplingMath {
    /// e^x, exactly 0 below −87 (so −∞ logits get probability 0): ``FastExp`` of the model layer.
    @inline(__always)
    static func exp(_ value: Float) -> Float {
        FastExp.exp(value)
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
