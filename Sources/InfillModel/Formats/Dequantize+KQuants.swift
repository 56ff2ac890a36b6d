/// ggml's k-quant super-blocks (256 elements each), decoded exactly as `ggml-quants.c` defines them.
extension Dequantize {
    /// The 6-bit scale and minimum of sub-block `j` (0..<8) from the 12 packed bytes of a Q4_K or
    /// Q5_K super-block (`get_scale_min_k4`).
    @inline(__always)
    static func scaleMin(_ j: Int, _ packed: UnsafePointer<UInt8>) -> (scale: Float, minimum: Float) {
        if j < 4 {
            return (Float(packed[j] & 63), Float(packed[j + 4] & 63))
        }
        let scale = (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4)
        let minimum = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4)
        return (Float(scale), Float(minimum))
    }

    /// block_q4_K (144 bytes): half d, half dmin, u8 scales[12], u8 qs[128]; eight sub-blocks of
    /// 32, each `d·scale·q − dmin·min` with 4-bit q (low nibbles first, then high nibbles of the same 32 bytes).
    @inline(__always)
    static func decodeQ4K(_ b: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        let scales = (b + 4).assumingMemoryBound(to: UInt8.self)
        var q = (b + 16).assumingMemoryBound(to: UInt8.self)
        var y = out
        for pair in 0..<4 {
            let (s1, m1) = scaleMin(2 * pair, scales)
            let (s2, m2) = scaleMin(2 * pair + 1, scales)
            let d1 = d * s1, o1 = dmin * m1, d2 = d * s2, o2 = dmin * m2
            for l in 0..<32 { y[l] = d1 * Float(q[l] & 0x0F) - o1 }
            for l in 0..<32 { y[l + 32] = d2 * Float(q[l] >> 4) - o2 }
            q += 32
            y += 64
        }
    }

    /// block_q5_K (176 bytes): half d, half dmin, u8 scales[12], u8 qh[32], u8 qs[128]; as Q4_K
    /// with a fifth bit per element from `qh` (bit `2·pair` for the low nibbles, `2·pair + 1` for the high).
    @inline(__always)
    static func decodeQ5K(_ b: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        let scales = (b + 4).assumingMemoryBound(to: UInt8.self)
        let qh = (b + 16).assumingMemoryBound(to: UInt8.self)
        var ql = (b + 48).assumingMemoryBound(to: UInt8.self)
        var y = out
        var u1: UInt8 = 1, u2: UInt8 = 2
        for pair in 0..<4 {
            let (s1, m1) = scaleMin(2 * pair, scales)
            let (s2, m2) = scaleMin(2 * pair + 1, scales)
            let d1 = d * s1, o1 = dmin * m1, d2 = d * s2, o2 = dmin * m2
            for l in 0..<32 { y[l] = d1 * Float((ql[l] & 0x0F) + (qh[l] & u1 != 0 ? 16 : 0)) - o1 }
            for l in 0..<32 { y[l + 32] = d2 * Float((ql[l] >> 4) + (qh[l] & u2 != 0 ? 16 : 0)) - o2 }
            ql += 32
            y += 64
            u1 <<= 2
            u2 <<= 2
        }
    }

    /// block_q6_K (210 bytes): u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), i8 scales[16],
    /// half d; sixteen sub-blocks of 16, each `d·scale·(q − 32)` with 6-bit q.
    @inline(__always)
    static func decodeQ6K(_ b: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>) {
        let d = half(b, 208)
        var ql = b.assumingMemoryBound(to: UInt8.self)
        var qh = (b + 128).assumingMemoryBound(to: UInt8.self)
        var sc = (b + 192).assumingMemoryBound(to: Int8.self)
        var y = out
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let q1 = Int(ql[l] & 0x0F | ((qh[l] >> 0) & 3) << 4) - 32
                let q2 = Int(ql[l + 32] & 0x0F | ((qh[l] >> 2) & 3) << 4) - 32
                let q3 = Int(ql[l] >> 4 | ((qh[l] >> 4) & 3) << 4) - 32
                let q4 = Int(ql[l + 32] >> 4 | ((qh[l] >> 6) & 3) << 4) - 32
                y[l] = d * Float(sc[s]) * Float(q1)
                y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
            }
            y += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
