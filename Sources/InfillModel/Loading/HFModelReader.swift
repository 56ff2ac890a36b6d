import Foundation

/// Reads a Hugging Face model folder: `config.json` and one or many `*.safetensors` shards.
public struct HFModelReader: Sendable {
    /// The folder.
    public let folder: String
    /// `mask_token_id` from `config.json`, if any.
    public let maskTokenID: Int?
    /// `eos_token_id` from `config.json`, if any (the first when it is a list).
    public let eosTokenID: Int?
    /// The model's configuration.
    public let config: TransformerConfig
    /// The shards, in name order.
    public let shards: [SafetensorsFile]

    /// Opens `folder`, parsing `config.json` and validating every shard's header.
    public init(folder: String) throws {
        self.folder = folder
        let configPath = folder + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw ModelFileError(configPath, "cannot read (an HF model folder needs config.json)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ModelFileError(configPath, "not a JSON object")
        }
        maskTokenID = (json["mask_token_id"] as? NSNumber)?.intValue
        eosTokenID = (json["eos_token_id"] as? NSNumber)?.intValue ?? (json["eos_token_id"] as? [NSNumber])?.first?.intValue
        config = try Self.parseConfig(json, path: configPath)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw ModelFileError(folder, "no *.safetensors files") }
        shards = try files.map { try SafetensorsFile(path: folder + "/" + $0) }
    }

    static func parseConfig(_ json: [String: Any], path: String) throws -> TransformerConfig {
        let type = (json["model_type"] as? String) ?? ""
        guard ["llama", "qwen2"].contains(type) else {
            throw ModelFileError(path, "unsupported model_type '\(type)' (supported: llama, qwen2)")
        }
        func integer(_ key: String) throws -> Int {
            guard let n = json[key] as? NSNumber else { throw ModelFileError(path, "missing or non-numeric '\(key)'") }
            return n.intValue
        }
        func optional(_ key: String) -> NSNumber? { json[key] as? NSNumber }
        if let scaling = json["rope_scaling"] as? [String: Any] {
            let kind = (scaling["rope_type"] ?? scaling["type"]) as? String ?? "?"
            guard kind == "default" else { throw ModelFileError(path, "rope_scaling '\(kind)' is not supported") }
        }
        let hidden = try integer("hidden_size")
        let heads = try integer("num_attention_heads")
        let config = TransformerConfig(
            architecture: type,
            vocabularySize: try integer("vocab_size"),
            hiddenSize: hidden,
            intermediateSize: try integer("intermediate_size"),
            layerCount: try integer("num_hidden_layers"),
            headCount: heads,
            kvHeadCount: optional("num_key_value_heads")?.intValue ?? heads,
            headDimension: optional("head_dim")?.intValue,
            ropeTheta: optional("rope_theta")?.floatValue ?? 10000,
            rmsEpsilon: optional("rms_norm_eps")?.floatValue ?? 1e-6,
            contextLength: optional("max_position_embeddings")?.intValue ?? 2048,
            tiedEmbeddings: (json["tie_word_embeddings"] as? Bool) ?? false,
            attentionBias: type == "qwen2" ? true : ((json["attention_bias"] as? Bool) ?? false))
        try config.validate(source: path)
        return config
    }

    /// All weights as fp32 in HF naming (a missing `model.` prefix is added).
    public func weights() throws -> WeightSet {
        var set = WeightSet(source: folder)
        for shard in shards {
            for (name, info) in shard.tensors {
                guard name.hasSuffix(".weight") || name.hasSuffix(".bias") else { continue }
                if name.hasSuffix("rotary_emb.inv_freq") { continue }
                let key = name.hasPrefix("model.") || name.hasPrefix("lm_head") ? name : "model." + name
                let rows = info.shape.count == 2 ? info.shape[0] : 1
                let columns = info.shape.count == 2 ? info.shape[1] : info.elementCount
                guard info.shape.count <= 2 else {
                    throw ModelFileError(shard.path, "tensor '\(name)' has \(info.shape.count) dimensions")
                }
                set.matrices[key] = WeightSet.Matrix(rows: rows, columns: columns, values: try shard.floats(name))
            }
        }
        return set
    }

    /// Storage dtypes with their tensor counts.
    public var typeCounts: [String: Int] {
        shards.flatMap { $0.tensors.values }.reduce(into: [:]) { $0[$1.dtype, default: 0] += 1 }
    }
}
