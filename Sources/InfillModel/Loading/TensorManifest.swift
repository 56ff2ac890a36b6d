/// Every tensor a decoder of a given ``TransformerConfig`` needs, under its HF (Llama/Qwen2) name,
/// with its shape, and how each supported file layout names it.
///
/// Readers walk this list instead of whatever a file happens to hold, so a missing, mis-shaped or
/// unknown tensor is reported by the name the file uses.
public struct TensorManifest: Sendable {
    /// One needed tensor.
    public struct Entry: Sendable, Equatable {
        /// HF Llama/Qwen2 name, e.g. `model.layers.0.self_attn.q_proj.weight`.
        public let name: String
        /// Rows (1 for a vector).
        public let rows: Int
        /// Columns (the element count for a vector).
        public let columns: Int
        /// Whether it is one-dimensional (a norm weight or a bias).
        public let isVector: Bool
        /// The layer it belongs to, nil for embedding, final norm and head.
        public let layer: Int?
        /// The part after `model.layers.N.` (or the whole name outside layers).
        public let suffix: String

        /// The row-major HF shape: `[rows, columns]`, or `[columns]` for a vector.
        public var hfShape: [Int] { isVector ? [columns] : [rows, columns] }
        /// GGUF's shape (innermost dimension first).
        public var ggufShape: [Int] { isVector ? [columns] : [columns, rows] }
    }

    public let entries: [Entry]

    /// The tensors of a decoder shaped like `c`.
    public init(config c: TransformerConfig) {
        let h = c.hiddenSize, q = c.queryWidth, kv = c.keyValueWidth, ff = c.intermediateSize
        var entries: [Entry] = [
            Entry(name: "model.embed_tokens.weight", rows: c.vocabularySize, columns: h, isVector: false, layer: nil,
                  suffix: "model.embed_tokens.weight"),
            Entry(name: "model.norm.weight", rows: 1, columns: h, isVector: true, layer: nil, suffix: "model.norm.weight"),
        ]
        if !c.tiedEmbeddings {
            entries.append(Entry(name: "lm_head.weight", rows: c.vocabularySize, columns: h, isVector: false, layer: nil,
                                 suffix: "lm_head.weight"))
        }
        for i in 0..<c.layerCount {
            var parts: [(String, Int, Int, Bool)] = [
                ("input_layernorm.weight", 1, h, true),
                ("self_attn.q_proj.weight", q, h, false),
                ("self_attn.k_proj.weight", kv, h, false),
                ("self_attn.v_proj.weight", kv, h, false),
                ("self_attn.o_proj.weight", h, q, false),
                ("post_attention_layernorm.weight", 1, h, true),
                ("mlp.gate_proj.weight", ff, h, false),
                ("mlp.up_proj.weight", ff, h, false),
                ("mlp.down_proj.weight", h, ff, false),
            ]
            if c.attentionBias {
                parts += [("self_attn.q_proj.bias", 1, q, true), ("self_attn.k_proj.bias", 1, kv, true),
                          ("self_attn.v_proj.bias", 1, kv, true)]
            }
            for (suffix, rows, columns, vector) in parts {
                entries.append(Entry(name: WeightSet.layer(i, suffix), rows: rows, columns: columns, isVector: vector,
                                     layer: i, suffix: suffix))
            }
        }
        self.entries = entries
    }

    /// The name an HF checkpoint of `family` stores `entry` under: Llama/Qwen2/Dream use the HF
    /// names themselves; LLaDA uses OLMo's (`model.transformer.blocks.N.q_proj.weight`, …).
    public static func hfName(_ entry: Entry, family: ModelFamily) -> String {
        guard family == .llada else { return entry.name }
        let outer = ["model.embed_tokens.weight": "model.transformer.wte.weight",
                     "model.norm.weight": "model.transformer.ln_f.weight",
                     "lm_head.weight": "model.transformer.ff_out.weight"]
        if let layer = entry.layer {
            let parts = ["input_layernorm": "attn_norm", "post_attention_layernorm": "ff_norm",
                         "self_attn.q_proj": "q_proj", "self_attn.k_proj": "k_proj", "self_attn.v_proj": "v_proj",
                         "self_attn.o_proj": "attn_out", "mlp.gate_proj": "ff_proj", "mlp.up_proj": "up_proj",
                         "mlp.down_proj": "ff_out"]
            let dot = entry.suffix.lastIndex(of: ".") ?? entry.suffix.endIndex
            let module = String(entry.suffix[..<dot]), kind = String(entry.suffix[dot...])
            return "model.transformer.blocks.\(layer).\(parts[module] ?? module)\(kind)"
        }
        return outer[entry.name] ?? entry.name
    }

    /// The name llama.cpp's converter gives `entry` in a GGUF (the same for every architecture here).
    public static func ggufName(_ entry: Entry) -> String {
        let outer = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                     "lm_head.weight": "output.weight"]
        if let layer = entry.layer {
            let parts = ["input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
                         "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
                         "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
                         "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
                         "mlp.down_proj.weight": "ffn_down.weight", "self_attn.q_proj.bias": "attn_q.bias",
                         "self_attn.k_proj.bias": "attn_k.bias", "self_attn.v_proj.bias": "attn_v.bias"]
            return "blk.\(layer).\(parts[entry.suffix] ?? entry.suffix)"
        }
        return outer[entry.name] ?? entry.name
    }
}
