/// Every layer's keys and values (after RoPE) for one sequence: the approximate cache of
/// Fast-dLLM.
///
/// A full forward pass records it (``Transformer/logits(sequences:outputRows:attention:recordingInto:)``);
/// ``Transformer/cachedLogits(sequences:rows:outputRows:caches:attention:)`` then recomputes only
/// chosen rows, reading every other position's keys and values from here. Under bidirectional
/// attention the cached entries go stale as the recomputed rows change, which is the
/// approximation: refresh the cache (another full pass) at each block boundary.
///
/// One cache belongs to one sampling run at a time; it is a reference type so the sampler can
/// keep it across steps without copying megabytes, and it is `@unchecked Sendable` because a
/// run never shares it between threads.
public final class KVCache: @unchecked Sendable {
    /// Positions recorded (the sequence length of the last full pass).
    public private(set) var length = 0
    private var layers = 0
    private var width = 0
    private var capacity = 0
    /// `[layer][position][width]` keys, then values, in one buffer each.
    private var keys: [Float] = []
    private var values: [Float] = []

    public init() {}

    /// Bytes held.
    public var byteCount: Int { (keys.count + values.count) * MemoryLayout<Float>.stride }

    /// Sizes the cache for a sequence of `length` positions (contents undefined until stored).
    func reset(length: Int, config: TransformerConfig) {
        let w = config.keyValueWidth
        if length > capacity || config.layerCount != layers || w != width {
            capacity = max(length, capacity)
            layers = config.layerCount
            width = w
            keys = [Float](repeating: 0, count: layers * capacity * w)
            values = [Float](repeating: 0, count: layers * capacity * w)
        }
        self.length = length
    }

    /// Grows the recorded length to `length` (autoregressive decoding appends positions); the new
    /// positions must be recomputed by the next cached pass.
    func extend(to length: Int) {
        guard length > self.length else { return }
        if length > capacity {
            let bigger = max(length, capacity * 2)
            var k = [Float](repeating: 0, count: layers * bigger * width)
            var v = [Float](repeating: 0, count: layers * bigger * width)
            for layer in 0..<layers {
                let from = layer * capacity * width, to = layer * bigger * width, count = self.length * width
                k.replaceSubrange(to..<(to + count), with: keys[from..<(from + count)])
                v.replaceSubrange(to..<(to + count), with: values[from..<(from + count)])
            }
            keys = k
            values = v
            capacity = bigger
        }
        self.length = length
    }

    /// Forgets every position from `length` on (a causal prefix that changed there): the next
    /// cached pass must recompute them.
    public func truncate(to length: Int) {
        self.length = min(self.length, max(0, length))
    }

    /// Copies one position's key (`kv[0..<width]`) and value (`kv[width..<2·width]`).
    @inline(__always)
    func store(layer: Int, position: Int, from kv: UnsafePointer<Float>) {
        let offset = (layer * capacity + position) * width
        keys.withUnsafeMutableBufferPointer { ($0.baseAddress! + offset).update(from: kv, count: width) }
        values.withUnsafeMutableBufferPointer { ($0.baseAddress! + offset).update(from: kv + width, count: width) }
    }

    /// Runs `body` with the layer's key and value matrices (`length × width`, row-major).
    func withLayer<R>(
        _ layer: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) throws -> R
    ) rethrows -> R {
        let offset = layer * capacity * width
        return try keys.withUnsafeMutableBufferPointer { k in
            try values.withUnsafeMutableBufferPointer { v in
                try body(k.baseAddress! + offset, v.baseAddress! + offset)
            }
        }
    }
}
