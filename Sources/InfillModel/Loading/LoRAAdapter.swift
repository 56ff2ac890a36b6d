import COpenBLAS

/// A diffusion adapter (docs/ADAPTER.md): LoRA pairs, replacement norms and embedding rows in HF layout.
public struct LoRAAdapter: Sendable {
    /// The folder it was read from.
    public let folder: String
    public let manifest: AdapterManifest
    private let tensors: SafetensorsFile

    /// Reads `folder/manifest.json` and `folder/adapter.safetensors`.
    public init(folder: String) throws {
        self.folder = folder
        manifest = try AdapterManifest.read(path: folder + "/manifest.json")
        tensors = try SafetensorsFile(path: folder + "/adapter.safetensors")
    }

    /// The linear layers LoRA pairs may target.
    static let linears = [
        "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
        "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj",
    ]

    /// Merges the adapter into `set`: `W' = W + (alpha / rank)·B·A`, norms and embedding rows replaced.
    /// - Returns: the number of LoRA pairs merged.
    /// - Throws: ``ModelFileError`` naming the adapter file and tensor when a shape does not fit.
    @discardableResult
    public func merge(into set: inout WeightSet, config: TransformerConfig) throws -> Int {
        let path = tensors.path
        let scale = Float(manifest.alpha / Double(manifest.rank))
        var merged = 0
        var used = Set<String>()
        for i in 0..<config.layerCount {
            for linear in Self.linears {
                let aName = WeightSet.layer(i, linear + ".lora_A"), bName = WeightSet.layer(i, linear + ".lora_B")
                guard let aInfo = tensors.tensors[aName], let bInfo = tensors.tensors[bName] else {
                    if tensors.tensors[aName] != nil || tensors.tensors[bName] != nil {
                        throw ModelFileError(path, "'\(aName)' and '\(bName)' must come as a pair")
                    }
                    continue
                }
                used.formUnion([aName, bName])
                let weightName = WeightSet.layer(i, linear + ".weight")
                guard var target = set.matrices[weightName] else {
                    throw ModelFileError(path, "adapter targets '\(weightName)', which the base model lacks")
                }
                guard aInfo.shape.count == 2, bInfo.shape.count == 2, aInfo.shape[0] == bInfo.shape[1],
                      aInfo.shape[1] == target.columns, bInfo.shape[0] == target.rows
                else {
                    throw ModelFileError(
                        path, "LoRA pair '\(aName)' \(aInfo.shape) / '\(bName)' \(bInfo.shape) does not fit \(weightName) [\(target.rows), \(target.columns)]")
                }
                let a = try tensors.floats(aName), b = try tensors.floats(bName)
                let rank = aInfo.shape[0]
                target.values.withUnsafeMutableBufferPointer { w in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(target.rows), Int32(target.columns), Int32(rank),
                        scale, b, Int32(rank), a, Int32(target.columns), 1, w.baseAddress, Int32(target.columns))
                }
                set.matrices[weightName] = target
                merged += 1
            }
            for norm in ["input_layernorm.weight", "post_attention_layernorm.weight"] {
                try replaceVector(WeightSet.layer(i, norm), in: &set, used: &used)
            }
        }
        try replaceVector("model.norm.weight", in: &set, used: &used)
        if tensors.tensors["model.embed_tokens.rows"] != nil || tensors.tensors["model.embed_tokens.row_ids"] != nil {
            let ids = try tensors.integers("model.embed_tokens.row_ids")
            let rows = try tensors.floats("model.embed_tokens.rows")
            guard var embedding = set.matrices["model.embed_tokens.weight"], rows.count == ids.count * embedding.columns else {
                throw ModelFileError(path, "model.embed_tokens.rows must be [\(ids.count), hidden]")
            }
            for (k, id) in ids.enumerated() {
                guard id >= 0, id < embedding.rows else {
                    throw ModelFileError(path, "model.embed_tokens.row_ids[\(k)] = \(id) is outside the vocabulary (0..<\(embedding.rows))")
                }
                let h = embedding.columns
                embedding.values.replaceSubrange((id * h)..<((id + 1) * h), with: rows[(k * h)..<((k + 1) * h)])
            }
            set.matrices["model.embed_tokens.weight"] = embedding
            used.formUnion(["model.embed_tokens.rows", "model.embed_tokens.row_ids"])
        }
        if let unknown = tensors.tensors.keys.filter({ !used.contains($0) }).sorted().first {
            throw ModelFileError(path, "unknown adapter tensor '\(unknown)'")
        }
        return merged
    }

    private func replaceVector(_ name: String, in set: inout WeightSet, used: inout Set<String>) throws {
        guard tensors.tensors[name] != nil else { return }
        let values = try tensors.floats(name)
        guard let existing = set.matrices[name], existing.values.count == values.count else {
            throw ModelFileError(tensors.path, "'\(name)' has \(values.count) values, the base model's has \(set.matrices[name]?.values.count ?? 0)")
        }
        set.matrices[name] = WeightSet.Matrix(rows: 1, columns: values.count, values: values)
        used.insert(name)
    }
}
