import COpenBLAS
import Dispatch

/// Scaled dot-product attention over grouped query heads, the work shared out over the engine's
/// threads (``BLASThreads``).
///
/// The query heads that share one key/value head are stacked into one block of rows (head `g`'s
/// rows after head `g − 1`'s), so each group is two larger `sgemm`s: scores = q · kᵀ, a softmax
/// per row, out = scores · v. A group's stacked rows are cut into slices, and the slices of all
/// groups and sequences are dealt out to the threads, each with its own query and score buffers
/// and each `sgemm` single-threaded. Slices write disjoint output rows and columns, so no two
/// threads share an output. Splitting the work here rather than letting OpenBLAS split each
/// small product keeps OpenBLAS's spinning workers off the cores the packed kernel uses.
struct HeadAttention {
    /// One key/value head's operands: `rows` query rows of each of its `group` query heads
    /// against `length` keys and values.
    struct Group {
        /// Query row `r` of the group's head `g` is at `queries + r · queryStride + g · headDimension`.
        var queries: UnsafePointer<Float>
        var queryStride: Int
        var rows: Int
        var keys: UnsafePointer<Float>
        var values: UnsafePointer<Float>
        var keyValueStride: Int
        var length: Int
        /// Output row `r` of head `g` goes to `output + r · outputStride + g · headDimension`.
        var output: UnsafeMutablePointer<Float>
        var outputStride: Int
        /// For causal attention: the canvas position of query row `r` (it sees keys `0...position`).
        var causalPositions: UnsafePointer<Int>?
    }

    /// Stacked rows per slice: enough for an efficient `sgemm`, few enough to share a canvas's
    /// groups out evenly.
    static let sliceRows = 192

    let headDimension: Int
    /// Query heads per key/value head.
    let groupSize: Int
    let scale: Float

    /// Attends every group of `groups`, on up to `threads` threads.
    func run(_ groups: [Group], threads: Int) {
        var slices: [(group: Int, first: Int, count: Int)] = []
        for (index, group) in groups.enumerated() {
            var first = 0
            while first < groupSize * group.rows {
                let count = min(Self.sliceRows, groupSize * group.rows - first)
                slices.append((index, first, count))
                first += count
            }
        }
        guard !slices.isEmpty else { return }
        let longest = groups.map(\.length).max() ?? 0
        let workers = min(max(threads, 1), slices.count)
        let queryCapacity = Self.sliceRows * headDimension, scoreCapacity = Self.sliceRows * max(longest, 1)
        let buffers = UnsafeMutablePointer<Float>.allocate(capacity: workers * (queryCapacity + scoreCapacity))
        defer { buffers.deallocate() }
        if workers == 1 {
            for slice in slices {
                attend(groups[slice.group], first: slice.first, count: slice.count, queries: buffers, scores: buffers + queryCapacity)
            }
            return
        }
        let shared = SharedWork(groups: groups, slices: slices, buffers: buffers)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let queries = shared.buffers + w * (queryCapacity + scoreCapacity)
            var index = w
            while index < shared.slices.count {
                let slice = shared.slices[index]
                attend(shared.groups[slice.group], first: slice.first, count: slice.count, queries: queries, scores: queries + queryCapacity)
                index += workers
            }
        }
    }

    /// Stacked rows `first..<first + count` of `group` (row `s` is head `s / rows`, query row `s % rows`).
    private func attend(
        _ group: Group, first: Int, count: Int, queries: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    ) {
        let hd = headDimension, length = group.length
        for k in 0..<count {
            let head = (first + k) / group.rows, row = (first + k) % group.rows
            (queries + k * hd).update(from: group.queries + row * group.queryStride + head * hd, count: hd)
        }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(count), Int32(length), Int32(hd),
            scale, queries, Int32(hd), group.keys, Int32(group.keyValueStride), 0, scores, Int32(length))
        for k in 0..<count {
            let row = (first + k) % group.rows
            let visible = group.causalPositions.map { min(length, $0[row] + 1) } ?? length
            FastMath.softmax(scores + k * length, count: visible, total: length)
        }
        // The slice's queries are no longer needed: its outputs overwrite them.
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(count), Int32(hd), Int32(length),
            1, scores, Int32(length), group.values, Int32(group.keyValueStride), 0, queries, Int32(hd))
        for k in 0..<count {
            let head = (first + k) / group.rows, row = (first + k) % group.rows
            (group.output + row * group.outputStride + head * hd).update(from: queries + k * hd, count: hd)
        }
    }
}

/// The groups, slices and buffers handed to the threads: each thread reads every group's
/// operands and writes only its own slices' outputs and its own buffers.
private struct SharedWork: @unchecked Sendable {
    let groups: [HeadAttention.Group]
    let slices: [(group: Int, first: Int, count: Int)]
    let buffers: UnsafeMutablePointer<Float>
}
