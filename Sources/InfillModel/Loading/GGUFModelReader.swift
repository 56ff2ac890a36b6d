/// Turns a ``GGUFFile`` of a `llama` or `qwen2` model into a ``TransformerConfig`` and an HF-named ``WeightSet``.
public enum GGUFModelReader {
    /// Architectures whose GGUF tensors this reader understands.
    public static let architectures = ["llama", "qwen2"]

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

    /// All weights dequantised to fp32, renamed to HF names, q/k rows restored to HF order for llama.
    public static func weights(of file: GGUFFile, config c: TransformerConfig) throws -> WeightSet {
        var set = WeightSet(source: file.path)
        let h = c.hiddenSize
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightSet.Matrix {
            // GGUF shapes list the innermost dimension first.
            let shape = rows == 1 ? [columns] : [columns, rows]
            return WeightSet.Matrix(rows: rows, columns: columns, values: try file.floats(name, shape: shape))
        }
        set.matrices["model.embed_tokens.weight"] = try matrix("token_embd.weight", c.vocabularySize, h)
        set.matrices["model.norm.weight"] = try matrix("output_norm.weight", 1, h)
        if !c.tiedEmbeddings {
            set.matrices["lm_head.weight"] = try matrix("output.weight", c.vocabularySize, h)
        }
        // llama.cpp's converter interleaves each q/k head's rows for its RoPE; qwen2 is left as is.
        let interleaved = c.architecture == "llama"
        for i in 0..<c.layerCount {
            let names: [(String, String, Int, Int)] = [
                ("attn_norm.weight", "input_layernorm.weight", 1, h),
                ("ffn_norm.weight", "post_attention_layernorm.weight", 1, h),
                ("attn_q.weight", "self_attn.q_proj.weight", c.queryWidth, h),
                ("attn_k.weight", "self_attn.k_proj.weight", c.keyValueWidth, h),
                ("attn_v.weight", "self_attn.v_proj.weight", c.keyValueWidth, h),
                ("attn_output.weight", "self_attn.o_proj.weight", h, c.queryWidth),
                ("ffn_gate.weight", "mlp.gate_proj.weight", c.intermediateSize, h),
                ("ffn_up.weight", "mlp.up_proj.weight", c.intermediateSize, h),
                ("ffn_down.weight", "mlp.down_proj.weight", h, c.intermediateSize),
            ]
            for (gguf, hf, rows, columns) in names {
                var m = try matrix("blk.\(i).\(gguf)", rows, columns)
                if interleaved && gguf == "attn_q.weight" {
                    m.values = unpermute(m.values, heads: c.headCount, columns: columns)
                } else if interleaved && gguf == "attn_k.weight" {
                    m.values = unpermute(m.values, heads: c.kvHeadCount, columns: columns)
                }
                set.matrices[WeightSet.layer(i, hf)] = m
            }
            if c.attentionBias {
                for (gguf, hf, count, heads) in [
                    ("attn_q.bias", "self_attn.q_proj.bias", c.queryWidth, c.headCount),
                    ("attn_k.bias", "self_attn.k_proj.bias", c.keyValueWidth, c.kvHeadCount),
                    ("attn_v.bias", "self_attn.v_proj.bias", c.keyValueWidth, 0),
                ] {
                    var m = try matrix("blk.\(i).\(gguf)", 1, count)
                    if interleaved && heads > 0 { m.values = unpermute(m.values, heads: heads, columns: 1) }
                    set.matrices[WeightSet.layer(i, hf)] = m
                }
            }
        }
        return set
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
