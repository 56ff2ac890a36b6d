import Foundation

/// Reads a Hugging Face model folder: `config.json`, one or many `*.safetensors` shards (listed by
/// `model.safetensors.index.json` when there is one) of a Llama, Qwen2, Dream or LLaDA model.
public struct HFModelReader: Sendable {
    /// The folder.
    public let folder: String
    /// The architecture family from `model_type`.
    public let family: ModelFamily
    /// `mask_token_id` from `config.json`, if any.
    public let maskTokenID: Int?
    /// `eos_token_id` from `config.json`, if any (the first when it is a list).
    public let eosTokenID: Int?
    /// Every `eos_token_id` of `config.json` and `generation_config.json`, in that order, no repeats.
    public let endTokenIDs: [Int]
    /// The model's configuration.
    public let config: TransformerConfig
    /// The shards, in name order.
    public let shards: [SafetensorsFile]
    /// The tensors the checkpoint must hold, for ``config``.
    public let manifest: TensorManifest
    /// Which shard holds each stored tensor name.
    private let location: [String: Int]

    /// Opens `folder`, parsing `config.json` and validating every shard's header and the index.
    public init(folder: String) throws {
        self.folder = folder
        let configPath = folder + "/config.json"
        let json = try Self.jsonObject(at: configPath, what: "an HF model folder needs config.json")
        let type = (json["model_type"] as? String) ?? ""
        guard let family = ModelFamily(hfModelType: type) else {
            throw ModelFileError(configPath, "unsupported model_type '\(type)' (supported: llama, qwen2, Dream, llada)")
        }
        self.family = family
        maskTokenID = (json["mask_token_id"] as? NSNumber)?.intValue
        var ends = Self.integers(json["eos_token_id"])
        if let generation = try? Self.jsonObject(at: folder + "/generation_config.json", what: "") {
            ends += Self.integers(generation["eos_token_id"])
        }
        endTokenIDs = ends.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        eosTokenID = endTokenIDs.first
        config = family == .llada
            ? try Self.parseOLMoConfig(json, path: configPath)
            : try Self.parseConfig(json, family: family, path: configPath)
        manifest = TensorManifest(config: config)

        let indexPath = folder + "/model.safetensors.index.json"
        var files: [String]
        var indexed: [String: String]? = nil
        if FileManager.default.fileExists(atPath: indexPath) {
            let index = try Self.jsonObject(at: indexPath, what: "")
            guard let map = index["weight_map"] as? [String: String] else {
                throw ModelFileError(indexPath, "no 'weight_map' object of tensor name → shard file")
            }
            indexed = map
            files = Array(Set(map.values)).sorted()
            for file in files where !FileManager.default.fileExists(atPath: folder + "/" + file) {
                throw ModelFileError(folder + "/" + file, "missing: the index names this shard (for tensor '\(map.first { $0.value == file }?.key ?? "?")')")
            }
        } else {
            files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        }
        guard !files.isEmpty else { throw ModelFileError(folder, "no *.safetensors files") }
        shards = try files.map { try SafetensorsFile(path: folder + "/" + $0) }
        var location: [String: Int] = [:]
        for (k, shard) in shards.enumerated() {
            for name in shard.tensors.keys {
                if let other = location[name] {
                    throw ModelFileError(shard.path, "tensor '\(name)' is also in \(shards[other].path)")
                }
                location[name] = k
            }
        }
        if let indexed {
            for (name, file) in indexed.sorted(by: { $0.key < $1.key }) {
                guard let k = location[name], shards[k].path == folder + "/" + file else {
                    throw ModelFileError(folder + "/" + file, "missing tensor '\(name)' (model.safetensors.index.json puts it in this shard)")
                }
            }
        }
        self.location = location
    }

    /// The JSON object in `path`.
    static func jsonObject(at path: String, what: String) throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path, what.isEmpty ? "cannot read" : "cannot read (\(what))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ModelFileError(path, "not a JSON object")
        }
        return json
    }

    /// A JSON integer or list of integers.
    static func integers(_ value: Any?) -> [Int] {
        if let n = value as? NSNumber { return [n.intValue] }
        return (value as? [NSNumber])?.map(\.intValue) ?? []
    }

    /// A Llama / Qwen2 / Dream `config.json` (Dream's is Qwen2's with `model_type: Dream`).
    static func parseConfig(_ json: [String: Any], family: ModelFamily, path: String) throws -> TransformerConfig {
        func integer(_ key: String) throws -> Int {
            guard let n = json[key] as? NSNumber else { throw ModelFileError(path, "missing or non-numeric '\(key)'") }
            return n.intValue
        }
        func optional(_ key: String) -> NSNumber? { json[key] as? NSNumber }
        if let scaling = json["rope_scaling"] as? [String: Any] {
            let kind = (scaling["rope_type"] ?? scaling["type"]) as? String ?? "?"
            guard kind == "default" else { throw ModelFileError(path, "rope_scaling '\(kind)' is not supported") }
        }
        if let act = json["hidden_act"] as? String, act != "silu" {
            throw ModelFileError(path, "hidden_act '\(act)' is not supported (only silu)")
        }
        let hidden = try integer("hidden_size")
        let heads = try integer("num_attention_heads")
        let biased = family == .qwen2 || family == .dream
        let config = TransformerConfig(
            architecture: family.rawValue,
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
            attentionBias: biased ? true : ((json["attention_bias"] as? Bool) ?? false))
        try config.validate(source: path)
        return config
    }

    /// LLaDA's OLMo-style `config.json` (`d_model`, `n_heads`, `n_kv_heads`, `n_layers`,
    /// `mlp_hidden_size`, `weight_tying`, …); options this engine does not implement are refused.
    static func parseOLMoConfig(_ json: [String: Any], path: String) throws -> TransformerConfig {
        func integer(_ key: String) throws -> Int {
            guard let n = json[key] as? NSNumber else { throw ModelFileError(path, "missing or non-numeric '\(key)'") }
            return n.intValue
        }
        func optional(_ key: String) -> NSNumber? { json[key] as? NSNumber }
        func require(_ key: String, _ allowed: [String]) throws {
            guard let value = json[key] as? String else { return }
            guard allowed.contains(value) else {
                throw ModelFileError(path, "'\(key)': '\(value)' is not supported (supported: \(allowed.joined(separator: ", ")))")
            }
        }
        func off(_ key: String) throws {
            if (json[key] as? Bool) == true { throw ModelFileError(path, "'\(key)': true is not supported") }
        }
        try require("block_type", ["llama"])
        try require("layer_norm_type", ["rms", "rms_norm"])
        try require("activation_type", ["silu"])
        for key in ["alibi", "attention_layer_norm", "scale_logits", "input_emb_norm", "include_bias"] { try off(key) }
        if json["clip_qkv"] is NSNumber { throw ModelFileError(path, "'clip_qkv' is not supported") }
        if (json["rope"] as? Bool) == false { throw ModelFileError(path, "'rope': false is not supported (LLaDA uses RoPE)") }
        if (json["layer_norm_with_affine"] as? Bool) == false {
            throw ModelFileError(path, "'layer_norm_with_affine': false is not supported")
        }
        let hidden = try integer("d_model")
        let heads = try integer("n_heads")
        let mlp = try optional("mlp_hidden_size")?.intValue ?? (try integer("mlp_ratio")) * hidden
        let vocabulary = try optional("embedding_size")?.intValue ?? integer("vocab_size")
        let config = TransformerConfig(
            architecture: ModelFamily.llada.rawValue,
            vocabularySize: vocabulary,
            hiddenSize: hidden,
            intermediateSize: mlp,
            layerCount: try integer("n_layers"),
            headCount: heads,
            kvHeadCount: optional("n_kv_heads")?.intValue ?? heads,
            ropeTheta: optional("rope_theta")?.floatValue ?? 10000,
            rmsEpsilon: optional("rms_norm_eps")?.floatValue ?? 1e-5,
            contextLength: optional("max_sequence_length")?.intValue ?? 4096,
            tiedEmbeddings: (json["weight_tying"] as? Bool) ?? false,
            attentionBias: (json["include_qkv_bias"] as? Bool) ?? false)
        try config.validate(source: path)
        return config
    }

    /// The stored tensor for manifest entry `entry`, its shard, checked for shape and dtype.
    /// - Throws: ``ModelFileError`` naming the stored tensor and the shard (or the folder when missing).
    public func stored(_ entry: TensorManifest.Entry) throws -> (shard: SafetensorsFile, info: SafetensorsFile.TensorInfo) {
        let name = storedName(entry)
        guard let k = location[name], let info = shards[k].tensors[name] else {
            throw ModelFileError(folder, "missing tensor '\(name)' (a \(family.rawValue) model of \(config.layerCount) layers needs it)")
        }
        let shard = shards[k]
        guard info.shape == entry.hfShape || (entry.isVector && info.shape == [1, entry.columns]) else {
            throw ModelFileError(shard.path, "tensor '\(name)' has shape \(info.shape), expected \(entry.hfShape)")
        }
        guard ["F32", "F16", "BF16"].contains(info.dtype) else {
            throw ModelFileError(shard.path, "tensor '\(name)' has dtype \(info.dtype); expected F32, F16 or BF16")
        }
        return (shard, info)
    }

    /// The name `entry` is stored under (HF checkpoints written without the `model.` prefix are accepted).
    func storedName(_ entry: TensorManifest.Entry) -> String {
        let name = TensorManifest.hfName(entry, family: family)
        if location[name] == nil, name.hasPrefix("model."), location[String(name.dropFirst(6))] != nil {
            return String(name.dropFirst(6))
        }
        return name
    }

    /// Checks that every stored tensor is one the manifest names (RoPE caches and a tied
    /// model's redundant head excepted).
    /// - Throws: ``ModelFileError`` naming the first unexpected tensor and its shard.
    public func checkNoUnknownTensors() throws {
        let known = Set(manifest.entries.map(storedName))
        for shard in shards {
            for name in shard.tensors.keys.sorted() where !known.contains(name) {
                if name.hasSuffix("rotary_emb.inv_freq") { continue }
                if config.tiedEmbeddings && (name == "lm_head.weight" || name == "model.transformer.ff_out.weight") { continue }
                throw ModelFileError(
                    shard.path, "unexpected tensor '\(name)': not part of a \(family.rawValue) model of \(config.layerCount) layers")
            }
        }
    }

    /// All weights in HF naming: fp32, or (`storage` ``WeightStorage/stored``) matrices left in
    /// their BF16/F16/F32 encoding, read in place from the shards' mappings, with fp32 vectors.
    public func weights(storage: WeightStorage = .fp32) throws -> WeightSet {
        try checkNoUnknownTensors()
        var set = WeightSet(source: folder)
        for entry in manifest.entries {
            let (shard, info) = try stored(entry)
            if storage == .stored && !entry.isVector {
                set.stored[entry.name] = try shard.storedRows(info.name, rows: entry.rows, columns: entry.columns)
                continue
            }
            set.matrices[entry.name] = WeightSet.Matrix(rows: entry.rows, columns: entry.columns, values: try shard.floats(info.name))
        }
        return set
    }

    /// Bytes the weights occupy under `storage` (fp32, or each matrix's stored bytes with fp32 vectors).
    public func weightBytes(storage: WeightStorage) -> Int {
        manifest.entries.reduce(0) { total, entry in
            let elements = entry.rows * entry.columns
            guard storage == .stored, !entry.isVector, let k = location[storedName(entry)],
                  let info = shards[k].tensors[storedName(entry)]
            else { return total + elements * 4 }
            return total + info.byteCount
        }
    }

    /// Storage dtypes with their tensor counts.
    public var typeCounts: [String: Int] {
        shards.flatMap { $0.tensors.values }.reduce(into: [:]) { $0[$1.dtype, default: 0] += 1 }
    }
}
