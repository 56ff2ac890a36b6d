/// Seeds that depend only on the pipeline's seed and the input bytes, so a re-run of the same
/// document writes the same bytes (the daemon's crash recovery relies on it).
public enum DocumentSeed {
    /// FNV-1a, 64 bits: a stable hash of the input bytes (unlike `Hasher`, same on every run).
    public static func fnv1a64(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }

    /// The document's seed: pipeline seed XOR the hash of the input.
    public static func document(pipelineSeed: UInt64, input: [UInt8]) -> UInt64 {
        pipelineSeed ^ fnv1a64(input)
    }

    /// The seed of one canvas: pass `pass`, attempt `attempt`, candidate `candidate` of a
    /// document (the first canvas of a document uses the document seed itself).
    public static func canvas(_ base: UInt64, pass: Int, attempt: Int, candidate: Int) -> UInt64 {
        if pass == 0 && attempt == 0 && candidate == 0 { return base }
        // SplitMix64 finaliser over the base and the indices: distinct, well-mixed streams.
        var z = base &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(1 + pass * 1_000_003 + attempt * 1_009 + candidate)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
