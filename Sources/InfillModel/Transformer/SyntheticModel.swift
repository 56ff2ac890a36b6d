import Foundation

/// Random weights in the shape of a published model, held as the engine would hold that model's
/// file (BF16, F16, Q8_0 or F32 matrices), for benchmarks without the real weights
/// (`infill bench --shape dream-7b`).
public enum SyntheticModel {
    /// Published shapes by name: `dream-7b` (Dream-v0 7B, Qwen2-7B blocks) and `llada-8b`
    /// (LLaDA-8B), as their config.json files give them.
    public static let shapes: [String: TransformerConfig] = [
        "dream-7b": TransformerConfig(
            architecture: "dream", vocabularySize: 152_064, hiddenSize: 3584, intermediateSize: 18944, layerCount: 28,
            headCount: 28, kvHeadCount: 4, ropeTheta: 1_000_000, rmsEpsilon: 1e-6, contextLength: 2048,
            tiedEmbeddings: false, attentionBias: true),
        "llada-8b": TransformerConfig(
            architecture: "llada", vocabularySize: 126_464, hiddenSize: 4096, intermediateSize: 12288, layerCount: 32,
            headCount: 32, kvHeadCount: 32, ropeTheta: 500_000, rmsEpsilon: 1e-5, contextLength: 4096,
            tiedEmbeddings: false, attentionBias: false),
    ]

    /// Storage types random matrices can be generated in.
    public static let types: [TensorType] = [.f32, .f16, .bf16, .q8_0]

    /// Bytes the weights of `config` occupy with matrices in `type` (vectors in fp32).
    public static func weightBytes(config: TransformerConfig, type: TensorType) -> Int {
        TensorManifest(config: config).entries.reduce(0) { total, entry in
            total + (entry.isVector ? entry.columns * 4 : (type.byteCount(elements: entry.rows * entry.columns) ?? 0))
        }
    }

    /// A transformer of `config` with random matrices stored as `type` (uniform values of
    /// standard deviation 1/√columns), norms of one and small random biases.
    public static func transformer(config c: TransformerConfig, type: TensorType, seed: UInt64 = 1) throws -> Transformer {
        precondition(types.contains(type), "SyntheticModel: \(type) cannot be generated")
        var set = WeightSet(source: "synthetic \(c.architecture)")
        for (index, entry) in TensorManifest(config: c).entries.enumerated() {
            if entry.isVector {
                let values = entry.suffix.hasSuffix("bias")
                    ? (0..<entry.columns).map { Float(($0 * 7919 + index) % 97) / 970 - 0.05 }
                    : [Float](repeating: 1, count: entry.columns)
                set.matrices[entry.name] = WeightSet.Matrix(rows: 1, columns: entry.columns, values: values)
                continue
            }
            set.stored[entry.name] = randomRows(
                rows: entry.rows, columns: entry.columns, type: type, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(index))
        }
        return Transformer(config: c, weights: try TransformerWeights(fusing: set, config: c))
    }

    /// `rows × columns` random values encoded as `type`, generated in parallel chunks of rows.
    static func randomRows(rows: Int, columns: Int, type: TensorType, seed: UInt64) -> StoredRows {
        let rowBytes = type.byteCount(elements: columns) ?? 0
        let bytes = OwnedBytes(count: rows * rowBytes)
        let chunks = min(rows, 4 * ProcessInfo.processInfo.activeProcessorCount)
        let per = (rows + chunks - 1) / chunks
        let address = UInt(bitPattern: bytes.pointer)
        let scale = (3 / Float(columns)).squareRoot()  // uniform(−a, a) has deviation a/√3
        DispatchQueue.concurrentPerform(iterations: chunks) { k in
            guard let base = UnsafeMutableRawPointer(bitPattern: address) else { return }
            var state = seed ^ (UInt64(k + 1) &* 0xD1B5_4A32_D192_ED03)
            var row = [Float](repeating: 0, count: columns)
            for r in (k * per)..<min(rows, (k + 1) * per) {
                for j in 0..<columns {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    row[j] = (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
                }
                encode(row, as: type, into: base + r * rowBytes)
            }
        }
        return StoredRows(owner: bytes, bytes: bytes.buffer, type: type, rows: rows, columns: columns)
    }

    /// Encodes one row of floats as `type` (F32, F16, BF16 or Q8_0).
    static func encode(_ row: [Float], as type: TensorType, into out: UnsafeMutableRawPointer) {
        switch type {
        case .f32:
            row.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        case .bf16:
            for (j, v) in row.enumerated() { out.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: 2 * j, as: UInt16.self) }
        case .f16:
            for (j, v) in row.enumerated() { out.storeBytes(of: half(v), toByteOffset: 2 * j, as: UInt16.self) }
        case .q8_0:
            for block in 0..<(row.count / 32) {
                let values = row[(block * 32)..<(block * 32 + 32)]
                let maximum = values.map(abs).max() ?? 0
                let d = maximum / 127, inverse: Float = d > 0 ? 1 / d : 0
                let b = out + block * 34
                b.storeBytes(of: half(d), as: UInt16.self)
                for (j, v) in values.enumerated() {
                    b.storeBytes(of: Int8((v * inverse).rounded()), toByteOffset: 2 + j, as: Int8.self)
                }
            }
        default:
            preconditionFailure("SyntheticModel: \(type) cannot be generated")
        }
    }

    /// Float to IEEE binary16 bits (round toward zero; normal range only, as random weights need).
    static func half(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
        if exponent <= 0 { return sign }
        if exponent >= 31 { return sign | 0x7C00 }
        return sign | UInt16(exponent << 10) | UInt16((bits >> 13) & 0x3FF)
    }
}
