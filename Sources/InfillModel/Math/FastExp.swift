/// e^x without libm: Cody–Waite range reduction and Cephes' degree-6 polynomial, written once
/// for the forward pass (``FastMath``, eight lanes at a time) and for sampling (the scalar form,
/// whose loops over a vocabulary auto-vectorise).
///
/// Relative error below 3e-7 on [-87, 88]; below −87 the result is exactly 0, so −∞ logits get
/// probability 0.
public enum FastExp {
    /// e^x for one value; NaN lands on e^−87 instead of trapping.
    @inlinable @inline(__always)
    public static func exp(_ value: Float) -> Float {
        // Clamped so the exponent bits never overflow.
        let x: Float = value > -87 ? (value < 88 ? value : 88) : -87
        let n = (x * log2e).rounded()
        let scaled = reduced(x, n) * Float(bitPattern: UInt32(bitPattern: Int32(n) + 127) << 23)
        return value < -87 ? 0 : scaled
    }

    /// e^x for eight values at once (the same reduction and polynomial).
    @inlinable @inline(__always)
    public static func exp(_ value: SIMD8<Float>) -> SIMD8<Float> {
        var x = value
        let low = SIMD8<Float>(repeating: -87), high = SIMD8<Float>(repeating: 88)
        x.replace(with: high, where: x .> high)
        let tooSmall = x .< low
        x.replace(with: low, where: tooSmall)
        // Round to nearest with the 1.5·2²³ trick (no libm call, vectorises).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * log2e + magic
        let p = reduced(x, shifted - magic)
        // 2^n from the bits of n + 1.5·2²³, whose low mantissa bits hold n (no float→int conversion).
        let bits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
        let exponent = (bits &- SIMD8<UInt32>(repeating: 0x4B40_0000 - 127)) &<< 23
        var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
        result.replace(with: 0, where: tooSmall)
        return result
    }

    @usableFromInline static let log2e: Float = 1.442_695_04

    /// e^(x − n·ln2): ln2 in two parts so the reduction stays exact to float precision, then the
    /// polynomial for e^r.
    @inlinable @inline(__always)
    static func reduced<Lanes: FloatLanes>(_ x: Lanes, _ n: Lanes) -> Lanes {
        let r = (x - n * 0.693_359_375) + n * 2.121_944_4e-4
        var p = r * 1.987_569_2e-4 + 1.398_199_9e-3
        p = p * r + 8.333_452e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 0.166_666_65
        p = p * r + 0.5
        return p * r * r + r + 1
    }
}

/// `Float` or a SIMD vector of them: what ``FastExp``'s shared polynomial computes over.
public protocol FloatLanes {
    static func + (lhs: Self, rhs: Self) -> Self
    static func - (lhs: Self, rhs: Self) -> Self
    static func * (lhs: Self, rhs: Self) -> Self
    static func + (lhs: Self, rhs: Float) -> Self
    static func * (lhs: Self, rhs: Float) -> Self
}

extension Float: FloatLanes {}
extension SIMD8: FloatLanes where Scalar == Float {}
