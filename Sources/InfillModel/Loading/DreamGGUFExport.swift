import Foundation

/// Writes a base GGUF with its diffusion adapter merged in as one llama.cpp `dream` GGUF.
///
/// The result is a self-contained diffusion model: llama.cpp's `llama-diffusion-cli` runs it
/// (the side-by-side benchmark in `tools/llama-cpp/`), and Infill loads it like any published
/// Dream file, with the same logits as the base-plus-adapter it came from. Dream is the right
/// container because it is llama.cpp's bidirectional Qwen2/Llama-shaped decoder: NeoX
/// (rotate-half) RoPE, so q/k rows stay in HF order; biases and a separate head optional.
///
/// What Dream's published metadata cannot say is kept under `infill.*` keys, which other readers
/// ignore: the null token that pads a gap's tail and the start token at position 0 of every canvas.
public enum DreamGGUFExport {
    /// What an export wrote.
    public struct Summary: Sendable {
        public let tensors: Int
        public let bytes: Int
        public let mergedPairs: Int
        public let config: TransformerConfig
    }

    /// Merges `adapterFolder` into the GGUF at `basePath` and writes the model to `outputPath`.
    ///
    /// - Parameters:
    ///   - type: the encoding of the matrices (f32, f16 or bf16); norm vectors stay f32.
    ///   - name: `general.name` of the file (default: the adapter's name).
    /// - Throws: ``ModelFileError`` for an unreadable base or adapter, an adapter that does not fit,
    ///   an adapter that is not bidirectional (Dream always is), or a write that fails.
    @discardableResult
    public static func export(
        basePath: String, adapterFolder: String, to outputPath: String, type: TensorType = .f32, name: String? = nil
    ) throws -> Summary {
        let file = try GGUFFile(path: basePath)
        let config = try GGUFModelReader.config(of: file)
        let adapter = try LoRAAdapter(folder: adapterFolder)
        let manifest = adapter.manifest
        guard manifest.attention == AttentionMode.bidirectional.rawValue else {
            throw ModelFileError(adapterFolder, "attention '\(manifest.attention)': a dream GGUF is always bidirectional")
        }
        var weights = try GGUFModelReader.weights(of: file, config: config, storage: .fp32)
        let merged = try adapter.merge(into: &weights, config: config)

        var writer = GGUFWriter()
        let arch = ModelFamily.dream.rawValue
        writer.metadata = [
            ("general.architecture", .string(arch)),
            ("general.name", .string(name ?? manifest.name)),
            ("general.file_type", .uint32(fileType(type))),
            ("\(arch).context_length", .uint32(UInt32(config.contextLength))),
            ("\(arch).embedding_length", .uint32(UInt32(config.hiddenSize))),
            ("\(arch).block_count", .uint32(UInt32(config.layerCount))),
            ("\(arch).feed_forward_length", .uint32(UInt32(config.intermediateSize))),
            ("\(arch).attention.head_count", .uint32(UInt32(config.headCount))),
            ("\(arch).attention.head_count_kv", .uint32(UInt32(config.kvHeadCount))),
            ("\(arch).attention.key_length", .uint32(UInt32(config.headDimension))),
            ("\(arch).attention.value_length", .uint32(UInt32(config.headDimension))),
            ("\(arch).rope.dimension_count", .uint32(UInt32(config.headDimension))),
            ("\(arch).rope.freq_base", .float32(config.ropeTheta)),
            ("\(arch).attention.layer_norm_rms_epsilon", .float32(config.rmsEpsilon)),
            ("diffusion.shift_logits", .bool(manifest.logitShift)),
        ]
        // The tokenizer travels verbatim; only the mask token is the adapter's.
        for (key, value) in file.metadata where key.hasPrefix("tokenizer.") && key != "tokenizer.ggml.mask_token_id" {
            writer.metadata.append((key, value))
        }
        writer.metadata.append(("tokenizer.ggml.mask_token_id", .uint32(UInt32(manifest.maskTokenID))))
        writer.metadata.append(("infill.null_token_id", .uint32(UInt32(manifest.nullTokenID))))
        if let start = manifest.startTokenID { writer.metadata.append(("infill.start_token_id", .uint32(UInt32(start)))) }
        writer.metadata.append(("infill.adapter", .string(manifest.name)))

        let set = weights
        for entry in TensorManifest(config: config).entries {
            // HF's row-major [rows, columns] is GGUF's [columns, rows]: the same bytes.
            writer.tensors.append(GGUFWriter.Tensor(
                name: TensorManifest.ggufName(entry), shape: entry.ggufShape, type: entry.isVector ? .f32 : type
            ) {
                guard let matrix = set.matrices[entry.name] else { throw ModelFileError(basePath, "missing tensor '\(entry.name)'") }
                return matrix.values
            })
        }
        try writer.write(to: outputPath)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: outputPath)[.size] as? Int) ?? 0
        return Summary(tensors: writer.tensors.count, bytes: bytes, mergedPairs: merged, config: config)
    }

    /// llama.cpp's `general.file_type` (`llama_ftype`) of a file whose matrices are all `type`.
    private static func fileType(_ type: TensorType) -> UInt32 {
        switch type {
        case .f16: 1
        case .bf16: 32
        default: 0
        }
    }
}
