/// Decoding of stored tensor bytes into fp32.
public enum Dequantize {
    /// Decodes `count` elements of `type` from `source` into `destination`.
    ///
    /// The caller has checked that `source` holds exactly `type.byteCount(elements: count)` bytes
    /// and `destination` at least `count` floats; the bytes need no alignment.
    public static func decode(
        _ type: TensorType, from source: UnsafeRawBufferPointer, count: Int,
        into destination: UnsafeMutablePointer<Float>
    ) {
        guard count > 0, let src = source.baseAddress else { return }
        switch type {
        case .f32:
            // memcpy-equivalent; the source may be unaligned.
            UnsafeMutableRawPointer(destination).copyMemory(from: src, byteCount: count * 4)
        case .f16:
            for i in 0..<count { destination[i] = half(src, i * 2) }
        case .bf16:
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16)
            }
        case .q8_0:
            for block in 0..<(count / 32) {
                let b = src + block * 34
                let scale = half(b, 0)
                let out = destination + block * 32
                let q = (b + 2).assumingMemoryBound(to: Int8.self)
                for j in 0..<32 { out[j] = scale * Float(q[j]) }
            }
        case .q4_0:
            for block in 0..<(count / 32) {
                let b = src + block * 18
                let scale = half(b, 0)
                let out = destination + block * 32
                let q = (b + 2).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    out[j] = scale * Float(Int(q[j] & 0x0F) - 8)
                    out[j + 16] = scale * Float(Int(q[j] >> 4) - 8)
                }
            }
        case .q4_1:
            for block in 0..<(count / 32) {
                let b = src + block * 20
                let scale = half(b, 0)
                let minimum = half(b, 2)
                let out = destination + block * 32
                let q = (b + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    out[j] = scale * Float(q[j] & 0x0F) + minimum
                    out[j + 16] = scale * Float(q[j] >> 4) + minimum
                }
            }
        case .q5_0:
            // block_q5_0: half d; u8 qh[4] (the fifth bits, little-endian); u8 qs[16] (low nibbles).
            for block in 0..<(count / 32) {
                let b = src + block * 22
                let scale = half(b, 0)
                let high = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
                let out = destination + block * 32
                let q = (b + 6).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    let h0 = Int((high >> UInt32(j)) & 1) << 4
                    let h1 = Int((high >> UInt32(j + 16)) & 1) << 4
                    out[j] = scale * Float((Int(q[j] & 0x0F) | h0) - 16)
                    out[j + 16] = scale * Float((Int(q[j] >> 4) | h1) - 16)
                }
            }
        case .q5_1:
            // block_q5_1: half d; half m; u8 qh[4]; u8 qs[16].
            for block in 0..<(count / 32) {
                let b = src + block * 24
                let scale = half(b, 0)
                let minimum = half(b, 2)
                let high = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
                let out = destination + block * 32
                let q = (b + 8).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    let h0 = UInt32((high >> UInt32(j)) & 1) << 4
                    let h1 = UInt32((high >> UInt32(j + 16)) & 1) << 4
                    out[j] = scale * Float(UInt32(q[j] & 0x0F) | h0) + minimum
                    out[j + 16] = scale * Float(UInt32(q[j] >> 4) | h1) + minimum
                }
            }
        case .q4_K:
            for block in 0..<(count / 256) { decodeQ4K(src + block * 144, into: destination + block * 256) }
        case .q5_K:
            for block in 0..<(count / 256) { decodeQ5K(src + block * 176, into: destination + block * 256) }
        case .q6_K:
            for block in 0..<(count / 256) { decodeQ6K(src + block * 210, into: destination + block * 256) }
        }
    }

    /// Decodes a whole tensor into a new array.
    public static func decode(_ type: TensorType, from source: UnsafeRawBufferPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { decode(type, from: source, count: count, into: base) }
            initialized = count
        }
    }

    /// An IEEE half at a byte offset, widened to Float.
    @inline(__always)
    static func half(_ pointer: UnsafeRawPointer, _ offset: Int) -> Float {
        halfToFloat(pointer.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    /// IEEE binary16 bits to Float, done by hand so it works where `Float16` is unavailable.
    @inline(__always)
    static func halfToFloat(_ bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2^-24.
            let magnitude = Float(mantissa) * 5.960464477539063e-08
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
