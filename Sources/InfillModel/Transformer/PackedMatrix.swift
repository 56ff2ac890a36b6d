import CInfillKernels

/// A weight matrix packed once at load for the project's own matrix kernel.
///
/// A cached step recomputes a block of a few rows and the parent a row or two, against every
/// weight of the model. OpenBLAS's sgemm repacks the whole weight matrix on each such call, which
/// costs as much as the product; a packed copy lets `infill_gemm_packed` stream each weight once.
/// Measured on this project's machine (one thread, SmolLM2-135M's layer shapes, `tools/kernels`):
/// 3.5× faster than sgemm at 1 row, 1.9–2.4× at 8–64 rows, and still 2× at 256–512 rows, where
/// Debian's OpenBLAS runs its AVX2 kernels and ours AVX-512. With more than one thread the
/// panels are shared out.
public struct PackedMatrix: Sendable {
    /// Rows (outputs) and columns (inputs) of the original row-major matrix.
    public let outputs: Int
    public let inputs: Int
    private let values: [Float]

    /// Rows from which a product is split over the BLAS thread count (fewer: one thread, as
    /// the split costs more than it saves).
    static let threadingRows = 32

    /// Packs a row-major `outputs × inputs` matrix.
    public init(_ weight: [Float], outputs: Int, inputs: Int) {
        precondition(weight.count == outputs * inputs, "PackedMatrix: \(weight.count) values for \(outputs)x\(inputs)")
        self.outputs = outputs
        self.inputs = inputs
        var packed = [Float](repeating: 0, count: infill_packed_count(Int32(outputs), Int32(inputs)))
        weight.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { p in
                infill_pack_panels(w.baseAddress!, Int32(outputs), Int32(inputs), p.baseAddress!)
            }
        }
        values = packed
    }

    /// `y[m][n] (+)= Σ_k x[m][k] · W[n][k]` for `rows` rows (`x` with row stride `ldx`, `y` with `ldy`),
    /// on up to `threads` threads.
    public func multiply(
        _ x: UnsafePointer<Float>, rows: Int, ldx: Int, into y: UnsafeMutablePointer<Float>, ldy: Int, accumulate: Bool,
        threads: Int = 1
    ) {
        let panels = (outputs + Int(INFILL_PANEL_WIDTH) - 1) / Int(INFILL_PANEL_WIDTH)
        let parts = rows >= Self.threadingRows ? min(max(1, threads), panels) : 1
        values.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            if parts == 1 {
                infill_gemm_packed(Int32(rows), Int32(outputs), Int32(inputs), x, Int32(ldx), base, y, Int32(ldy),
                                   accumulate ? 1 : 0)
                return
            }
            // Each thread writes its own panels' columns of y: no two share an output.
            ParallelRanges.run(0..<panels, parts: parts) { part in
                infill_gemm_packed_panels(
                    Int32(rows), Int32(outputs), Int32(inputs), x, Int32(ldx), base, y, Int32(ldy),
                    accumulate ? 1 : 0, Int32(part.lowerBound), Int32(part.count))
            }
        }
    }

    /// Row `r` of the original matrix into `out` (`inputs` floats): the embedding lookup of a
    /// tied, packed embedding, one strided read per input.
    @inline(__always)
    public func copyRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let width = Int(INFILL_PANEL_WIDTH)
        values.withUnsafeBufferPointer { p in
            let panel = p.baseAddress! + (r / width) * inputs * width + r % width
            for k in 0..<inputs { out[k] = panel[k * width] }
        }
    }

    /// The original row-major matrix (the benchmark's plain-sgemm baseline).
    public func unpacked() -> [Float] {
        [Float](unsafeUninitializedCapacity: outputs * inputs) { buffer, count in
            for r in 0..<outputs { copyRow(r, into: buffer.baseAddress! + r * inputs) }
            count = outputs * inputs
        }
    }

    /// Bytes held.
    public var byteCount: Int { values.count * MemoryLayout<Float>.stride }
}
