/// Turns a ``GGUFFile`` of a `llama`, `qwen2`, `dream` or `llada` model into a ``TransformerConfig``
/// and an HF-named ``WeightSet``.
public enum GGUFModelReader {
    /// Architectures whose GGUF tensors this reader understands.
    public static let architectures = ModelFamily.allCases.map(\.rawValue)

    /// The family of a file whose configuration ``config(of:)`` accepted.
    public static func family(of file: GGUFFile) -> ModelFamily? {
        file["general.architecture"]?.stringValue.flatMap(ModelFamily.init(rawValue:))
    }

    /// The model's configuration from GGUF metadata.
    public static func config(of file: GGUFFile) throws -> TransformerConfig {
        guard let architecture = file["general.architecture"]?.stringValue else {
            throw ModelFileError(file.path, "missing metadata 'general.architecture'")
        }
        guard architectures.contains(architecture) else {
            throw ModelFileError(file.path, "unsupported architecture '\(architecture)' (supported: \(architectures.joined(separator: ", ")))")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = file["\(architecture).\(key)"]?.intValue else {
                throw ModelFileError(file.path, "missing or non-integer metadata '\(architecture).\(key)'")
            }
            return value
        }
        func real(_ key: String, default fallback: Double) throws -> Float {
            guard let value = file["\(architecture).\(key)"] else { return Float(fallback) }
            guard let double = value.doubleValue else {
                throw ModelFileError(file.path, "metadata '\(architecture).\(key)' is not a number")
            }
            return Float(double)
        }
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.shape.count == 2 else {
            throw ModelFileError(file.path, "missing 2-D tensor 'token_embd.weight'")
        }
        let hidden = try integer("embedding_length")
        let heads = try integer("attention.head_count")
        let kvHeads = (try? integer("attention.head_count_kv")) ?? heads
        let headDimension = (try? integer("attention.key_length")) ?? (heads > 0 ? hidden / heads : 0)
        if let rope = try? integer("rope.dimension_count"), rope != headDimension {
            throw ModelFileError(file.path, "partial RoPE (\(rope) of \(headDimension) dimensions) is not supported")
        }
        if let scaling = file["\(architecture).rope.scaling.type"]?.stringValue, scaling != "none" {
            throw ModelFileError(file.path, "RoPE scaling '\(scaling)' is not supported")
        }
        let config = TransformerConfig(
            architecture: architecture,
            vocabularySize: embedding.shape[1],
            hiddenSize: hidden,
            intermediateSize: try integer("feed_forward_length"),
            layerCount: try integer("block_count"),
            headCount: heads,
            kvHeadCount: kvHeads,
            headDimension: headDimension,
            ropeTheta: try real("rope.freq_base", default: 10000),
            rmsEpsilon: try real("attention.layer_norm_rms_epsilon", default: 1e-6),
            contextLength: (try? integer("context_length")) ?? 2048,
            tiedEmbeddings: file.tensor(named: "output.weight") == nil,
            attentionBias: file.tensor(named: "blk.0.attn_q.bias") != nil)
        try config.validate(source: file.path)
        return config
    }

    /// All weights dequantised to fp32, renamed to HF names, q/k rows restored to HF order where
    /// llama.cpp's converter interleaved them (llama, llada).
    /// - Throws: ``ModelFileError`` naming the GGUF tensor that is missing, mis-shaped, of an
    ///   unsupported type, or not part of the architecture.
    ///
    /// With `storage` ``WeightStorage/stored`` the matrices stay in their GGUF encoding, read in
    /// place from the mapping (q/k rows reordered into an owned copy where needed); vectors are fp32.
    public static func weights(of file: GGUFFile, config c: TransformerConfig, storage: WeightStorage = .fp32) throws -> WeightSet {
        let manifest = TensorManifest(config: c)
        try checkNoUnknownTensors(in: file, manifest: manifest, config: c)
        let interleaved = ModelFamily(rawValue: c.architecture)?.ggufInterleavesQK ?? false
        var set = WeightSet(source: file.path)
        for entry in manifest.entries {
            if storage == .stored && !entry.isVector {
                var rows = try file.storedRows(TensorManifest.ggufName(entry), rows: entry.rows, columns: entry.columns)
                if interleaved, let heads = qkHeads(entry, config: c) {
                    rows = rows.reordered(unpermutedOrder(rows: entry.rows, heads: heads))
                }
                set.stored[entry.name] = rows
                continue
            }
            var values = try file.floats(TensorManifest.ggufName(entry), shape: entry.ggufShape)
            if interleaved, let heads = qkHeads(entry, config: c) {
                values = unpermute(values, heads: heads, columns: entry.isVector ? 1 : entry.columns)
            }
            set.matrices[entry.name] = WeightSet.Matrix(rows: entry.rows, columns: entry.columns, values: values)
        }
        return set
    }

    /// For a q or k projection (weight or bias), the head count its rows are grouped by; nil otherwise.
    static func qkHeads(_ entry: TensorManifest.Entry, config c: TransformerConfig) -> Int? {
        if entry.suffix.hasPrefix("self_attn.q_proj.") { return c.headCount }
        if entry.suffix.hasPrefix("self_attn.k_proj.") { return c.kvHeadCount }
        return nil
    }

    /// Checks that every tensor of `file` is one of `manifest`'s.
    /// - Throws: ``ModelFileError`` naming the first tensor the architecture does not have.
    static func checkNoUnknownTensors(in file: GGUFFile, manifest: TensorManifest, config c: TransformerConfig) throws {
        let known = Set(manifest.entries.map(TensorManifest.ggufName))
        for tensor in file.tensors where !known.contains(tensor.name) {
            let hint = tensor.name == "rope_freqs.weight" ? " (RoPE frequency factors are not supported)" : ""
            throw ModelFileError(
                file.path, "unexpected tensor '\(tensor.name)': not part of a \(c.architecture) model of \(c.layerCount) layers\(hint)")
        }
    }

    /// For each HF row, the GGUF row it comes from under llama.cpp's q/k permutation (see ``unpermute(_:heads:columns:)``).
    static func unpermutedOrder(rows: Int, heads: Int) -> [Int] {
        let d = rows / heads, half = d / 2
        var order = [Int](repeating: 0, count: rows)
        for head in 0..<heads {
            for j in 0..<half {
                for t in 0..<2 { order[head * d + t * half + j] = head * d + 2 * j + t }
            }
        }
        return order
    }

    /// Bytes the weights occupy under `storage`: fp32 everywhere, or the GGUF encoding of each
    /// matrix (plus an owned copy of reordered q/k rows) with fp32 vectors.
    public static func weightBytes(of file: GGUFFile, config c: TransformerConfig, storage: WeightStorage) -> Int {
        let interleaved = ModelFamily(rawValue: c.architecture)?.ggufInterleavesQK ?? false
        return TensorManifest(config: c).entries.reduce(0) { total, entry in
            let elements = entry.rows * entry.columns
            guard storage == .stored, !entry.isVector, let info = file.tensor(named: TensorManifest.ggufName(entry)),
                  let bytes = info.type?.byteCount(elements: info.elementCount)
            else { return total + elements * 4 }
            return total + bytes * (interleaved && qkHeads(entry, config: c) != nil ? 2 : 1)
        }
    }

    /// Undoes llama.cpp's q/k row permutation: GGUF row `head·d + 2j + t` holds HF row `head·d + t·d/2 + j`.
    public static func unpermute(_ values: [Float], heads: Int, columns: Int) -> [Float] {
        let rows = values.count / columns
        let d = rows / heads, half = d / 2
        var out = [Float](repeating: 0, count: values.count)
        for head in 0..<heads {
            for j in 0..<half {
                for t in 0..<2 {
                    let from = (head * d + 2 * j + t) * columns
                    let to = (head * d + t * half + j) * columns
                    for col in 0..<columns { out[to + col] = values[from + col] }
                }
            }
        }
        return out
    }

    /// The storage types of the file's tensors with their counts, e.g. `["Q4_1": 210, "F32": 61]`.
    public static func typeCounts(of file: GGUFFile) -> [String: Int] {
        file.tensors.reduce(into: [:]) { $0[$1.typeName, default: 0] += 1 }
    }
}
