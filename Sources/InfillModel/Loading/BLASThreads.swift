import COpenBLAS
import Foundation

/// The thread count OpenBLAS uses for every matrix product (process-wide).
public enum BLASThreads {
    /// Sets the thread count; nil means all cores.
    public static func set(_ count: Int?) {
        openblas_set_num_threads(Int32(max(1, count ?? ProcessInfo.processInfo.activeProcessorCount)))
    }

    /// The current thread count.
    public static var current: Int { Int(openblas_get_num_threads()) }
}
