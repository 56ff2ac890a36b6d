import COpenBLAS
import Foundation

/// Consecutive rows of a weight matrix in their stored encoding (BF16, F16, Q8_0, k-quants, …),
/// read in place from a memory-mapped file or from an owned copy.
///
/// `@unchecked Sendable`: the bytes are never written after creation and `owner` keeps them alive
/// for as long as any copy of this value exists.
public struct StoredRows: @unchecked Sendable {
    /// Keeps ``base`` valid: a ``MappedFile`` or an ``OwnedBytes``.
    let owner: AnyObject
    let base: UnsafeRawPointer
    public let type: TensorType
    public let rows: Int
    public let columns: Int
    /// Bytes of one row (`columns` is a whole number of blocks).
    public let rowBytes: Int

    /// Rows stored at `bytes` (which `owner` keeps alive); the caller has checked the size.
    init(owner: AnyObject, bytes: UnsafeRawBufferPointer, type: TensorType, rows: Int, columns: Int) {
        self.owner = owner
        // An empty buffer has no address; no row is then ever read.
        self.base = UnsafeRawPointer(bytes.baseAddress) ?? UnsafeRawPointer(bitPattern: 1)!
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = type.byteCount(elements: columns) ?? 0
    }

    /// Decodes rows `range` to fp32, row-major, into `out` (`range.count · columns` floats).
    func decode(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let bytes = UnsafeRawBufferPointer(start: base + range.lowerBound * rowBytes, count: range.count * rowBytes)
        Dequantize.decode(type, from: bytes, count: range.count * columns, into: out)
    }

    /// The same rows reordered: row `r` of the result is row `order[r]` of this (an owned copy).
    func reordered(_ order: [Int]) -> StoredRows {
        let copy = OwnedBytes(count: rows * rowBytes)
        for (r, from) in order.enumerated() {
            (copy.pointer + r * rowBytes).copyMemory(from: base + from * rowBytes, byteCount: rowBytes)
        }
        return StoredRows(owner: copy, bytes: copy.buffer, type: type, rows: rows, columns: columns)
    }

    /// fp32 rows as stored rows of type F32 (an owned copy), for fusing with stored parts.
    static func copying(_ values: [Float], rows: Int, columns: Int) -> StoredRows {
        let copy = OwnedBytes(count: values.count * 4)
        values.withUnsafeBytes { copy.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return StoredRows(owner: copy, bytes: copy.buffer, type: .f32, rows: rows, columns: columns)
    }
}

/// Heap bytes owned by a class, so ``StoredRows`` can keep a reordered copy alive.
final class OwnedBytes: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int) {
        self.count = count
        pointer = .allocate(byteCount: max(count, 1), alignment: 64)
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }

    deinit { pointer.deallocate() }
}

/// A weight matrix `[rows, columns]` (row-major, one row per output) as the forward pass uses it:
/// fp32 in memory, either row-major for `sgemm` or packed (``PackedMatrix``) for the project's
/// kernel when the model is small enough, or kept in its stored encoding and dequantised tile by
/// tile into a reused fp32 scratch that feeds `sgemm`.
///
/// Small models use the fp32 form (packed kernel or one `sgemm` per projection, as fast as
/// before); large ones the stored form, so a 7B model in BF16 or Q8_0 stays near its file size in memory.
public struct WeightMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    /// The fp32 values, when dense and not packed.
    private(set) var dense: [Float]?
    /// The fp32 values packed for ``PackedMatrix``'s kernel, when the model packs its matrices
    /// (the row-major values are then dropped: every use reads the packed form).
    public private(set) var packed: PackedMatrix?
    /// Consecutive row ranges in stored form, when not dense (fused projections have several).
    let segments: [StoredRows]

    /// Output rows dequantised at once: about 4 MiB of fp32 per tile, but at least 128 rows so
    /// each `sgemm` stays wide enough to run near its peak (10 MB for a 18,944-wide down projection).
    static func tileRows(columns: Int) -> Int { max(128, min(512, (1 << 20) / max(columns, 1))) }

    /// A dense fp32 matrix.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "WeightMatrix: \(values.count) values for \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        dense = values
        segments = []
        packed = nil
    }

    /// Stored rows, stacked in order (all with the same column count).
    public init(stacking parts: [StoredRows]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.columns == parts[0].columns }, "WeightMatrix: parts differ in width")
        rows = parts.reduce(0) { $0 + $1.rows }
        columns = parts[0].columns
        dense = nil
        segments = parts
        packed = nil
    }

    /// This matrix packed for the project's kernel, its row-major values released (a stored
    /// matrix is returned as is).
    func packing() -> WeightMatrix {
        guard let dense else { return self }
        var copy = self
        copy.packed = PackedMatrix(dense, outputs: rows, inputs: columns)
        copy.dense = nil
        return copy
    }

    /// Whether the matrix is kept in its stored encoding.
    public var isStored: Bool { !segments.isEmpty }

    /// The fp32 values, row-major (for a packed matrix a new unpacked array: the benchmark's
    /// plain-sgemm baseline); nil when stored.
    public var denseValues: [Float]? { dense ?? packed?.unpacked() }

    /// Bytes the matrix holds (the mapped bytes it reads, when stored).
    public var byteCount: Int {
        (dense.map { $0.count * 4 } ?? segments.reduce(0) { $0 + $1.rows * $1.rowBytes }) + (packed?.byteCount ?? 0)
    }

    /// fp32 scratch ``linear(_:rows:inputStride:into:outputStride:accumulate:tile:)`` needs (0 when dense).
    public var tileCapacity: Int { isStored ? Self.tileRows(columns: columns) * columns : 0 }

    /// Row `r` as fp32 into `out` (`columns` floats): the embedding lookup.
    @inline(__always)
    func copyRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        if let packed {
            packed.copyRow(r, into: out)
            return
        }
        if let dense {
            dense.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + r * columns, count: columns) }
            return
        }
        var first = 0
        for segment in segments {
            if r < first + segment.rows {
                segment.decode(rows: (r - first)..<(r - first + 1), into: out)
                return
            }
            first += segment.rows
        }
    }

    /// Row `r` as a new array (tests, inspection).
    public func rowValues(_ r: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: columns) { buffer, count in
            copyRow(r, into: buffer.baseAddress!)
            count = columns
        }
    }

    /// `y[n, rows] (+)= x[n, columns] · Wᵀ`: x with row stride `inputStride`, y with `outputStride`.
    ///
    /// Packed: the project's kernel. Dense: one `sgemm`. Stored: each tile of output rows is dequantised into `tile` (at least
    /// ``tileCapacity`` floats), split over `threads` workers, then multiplied by one `sgemm`.
    func linear(
        _ x: UnsafePointer<Float>, rows n: Int, inputStride: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int,
        accumulate: Bool, tile: UnsafeMutablePointer<Float>, threads: Int
    ) {
        let beta: Float = accumulate ? 1 : 0
        if let packed {
            packed.multiply(x, rows: n, ldx: inputStride, into: y, ldy: outputStride, accumulate: accumulate, threads: threads)
            return
        }
        if let dense {
            dense.withUnsafeBufferPointer { w in
                Self.sgemmSplit(x, rows: n, inputStride: inputStride, weights: w.baseAddress!, outputs: rows, columns: columns,
                                into: y, outputStride: outputStride, beta: beta, threads: threads)
            }
            return
        }
        let step = Self.tileRows(columns: columns)
        var offset = 0
        for segment in segments {
            var first = 0
            while first < segment.rows {
                let count = min(step, segment.rows - first)
                Self.decodeParallel(segment, rows: first..<(first + count), into: tile, threads: threads)
                Self.sgemmSplit(x, rows: n, inputStride: inputStride, weights: tile, outputs: count, columns: columns,
                                into: y + offset + first, outputStride: outputStride, beta: beta, threads: threads)
                first += count
            }
            offset += segment.rows
        }
    }

    /// `y[n, outputs] = x · Wᵀ + beta · y` with the weight rows split into `threads` contiguous
    /// chunks, one single-threaded `sgemm` each (OpenBLAS stays on one thread: ``BLASThreads``).
    private static func sgemmSplit(
        _ x: UnsafePointer<Float>, rows n: Int, inputStride: Int, weights w: UnsafePointer<Float>, outputs: Int, columns: Int,
        into y: UnsafeMutablePointer<Float>, outputStride: Int, beta: Float, threads: Int
    ) {
        // Below 64 outputs a share would be too thin to pay for the hand-off.
        ParallelRanges.run(0..<outputs, parts: min(threads, max(outputs / 64, 1))) { part in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(part.count), Int32(columns),
                1, x, Int32(inputStride), w + part.lowerBound * columns, Int32(columns), beta, y + part.lowerBound, Int32(outputStride))
        }
    }

    /// Decodes `range` of `segment` into `out`, in `threads` contiguous chunks of rows.
    private static func decodeParallel(_ segment: StoredRows, rows range: Range<Int>, into out: UnsafeMutablePointer<Float>, threads: Int) {
        ParallelRanges.run(range, parts: threads) { part in
            segment.decode(rows: part, into: out + (part.lowerBound - range.lowerBound) * segment.columns)
        }
    }
}
