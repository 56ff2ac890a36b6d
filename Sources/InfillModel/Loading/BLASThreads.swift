import COpenBLAS
import Foundation
import Synchronization

/// How many threads the engine's matrix work uses (process-wide): the packed kernel's panels,
/// attention heads (``HeadAttention``) and stored-weight tiles are shared out over this many,
/// while OpenBLAS itself runs single-threaded inside each share.
///
/// OpenBLAS's idle workers spin for a while after each call. Left on, they took the second core
/// from the project's own threads between the small attention products: a 256-token forward ran
/// at 728 tokens/s on 2 threads against 1,067 with OpenBLAS kept on one (same run, 2026-12-01).
public enum BLASThreads {
    private static let count: Atomic<Int> = {
        openblas_set_num_threads(1)
        return Atomic(ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Sets the thread count; nil means all cores.
    public static func set(_ count: Int?) {
        Self.count.store(max(1, count ?? ProcessInfo.processInfo.activeProcessorCount), ordering: .relaxed)
    }

    /// The current thread count.
    public static var current: Int { count.load(ordering: .relaxed) }

    /// Runs `body` with OpenBLAS itself on ``current`` threads: the benchmarks' plain-sgemm
    /// baselines, which measure OpenBLAS as a user of it would run it.
    public static func withOpenBLASThreads<T>(_ body: () throws -> T) rethrows -> T {
        openblas_set_num_threads(Int32(current))
        defer { openblas_set_num_threads(1) }
        return try body()
    }
}
