/// Which keys and values a sampling run reuses between steps (Fast-dLLM's approximate KV cache).
///
/// Only models that conform to ``InfillModel/CachingDenoisingModel`` can cache; for others every
/// mode runs as ``none``. A cache is recorded by a full forward pass when a block starts (and every
/// ``SamplingParameters/refreshInterval`` steps inside it); the steps in between recompute only
/// the rows the mode names. Caching needs blocks (``SamplingParameters/blockLength``): without
/// them the whole canvas is one block and nothing could be reused.
public enum CacheMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Every step is a full forward pass.
    case none
    /// Positions before the active block are cached; the block and everything after it are recomputed.
    case prefix
    /// Positions before and after the active block are cached; only the block is recomputed.
    case dual
}
