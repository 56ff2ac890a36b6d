import Foundation
import Synchronization

/// Finds and loads models: the `default` model (cached base GGUF + diffusion adapter), a GGUF
/// file, or an HF folder; merges adapters, builds the tokenizer and the ``TransformerModel``.
public enum ModelLoader {
    /// A loaded model with its concrete transformer and description.
    public struct Result: Sendable {
        public let loaded: LoadedModel
        public let model: TransformerModel
        public let description: ModelDescription
    }

    /// Name of the default adapter folder under `models/`.
    public static let defaultAdapterName = "smollm2-135m-diffusion"

    /// Loads `spec`: `default`, a GGUF file or an HF model folder.
    ///
    /// - Parameters:
    ///   - environment: the process environment (`INFILL_CACHE`, `INFILL_ADAPTER`, …).
    ///   - executablePath: the running binary, to find `models/` installed beside it.
    ///   - mergeAdapter: for `default`, whether to merge the diffusion adapter (false: the plain
    ///     base model, as `infill model forward --attention causal` probes it).
    ///   - warn: receives one-line warnings about the loaded model (a missing default adapter is an
    ///     error, not a warning: the base model alone cannot denoise).
    /// - Throws: ``ModelFileError`` for missing or unusable files.
    public static func load(
        _ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment,
        executablePath: String? = CommandLine.arguments.first, mergeAdapter: Bool = true,
        warn: (String) -> Void = { _ in }
    ) throws -> Result {
        let started = ContinuousClock.now
        var result: Result
        if spec == "default" {
            let base = ModelCache(environment: environment).baseModelURL.path
            guard FileManager.default.fileExists(atPath: base) else {
                throw ModelFileError(base, "the default base model is not there; run `infill model fetch` first")
            }
            let adapter = mergeAdapter ? adapterFolder(environment: environment, executablePath: executablePath) : nil
            if mergeAdapter && adapter == nil {
                // The base model alone, bidirectional, writes newlines: never degrade silently.
                throw ModelFileError(
                    defaultAdapterName,
                    "the default model's diffusion adapter is missing; looked in "
                        + adapterCandidates(executablePath: executablePath).joined(separator: ", ")
                        + " (set INFILL_ADAPTER to its folder)")
            }
            result = try loadGGUF(path: base, adapterFolder: adapter, name: BaseModel.name)
        } else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: spec, isDirectory: &isFolder) else {
                throw ModelFileError(spec, "no such file or folder (--model takes 'default', a GGUF file or an HF model folder)")
            }
            result = isFolder.boolValue ? try loadHF(folder: spec) : try loadGGUF(path: spec, adapterFolder: nil, name: nil)
        }
        var description = result.description
        description.loadSeconds = (ContinuousClock.now - started) / .seconds(1)
        return Result(loaded: result.loaded, model: result.model, description: description)
    }

    /// The default adapter folder: `$INFILL_ADAPTER`, `./models/<name>`, then beside the executable
    /// (`models/<name>` in any of the four folders above it, which covers SwiftPM's
    /// `.build/<triple>/release` of a checkout, and `../share/infill/models/<name>` for an install).
    public static func adapterFolder(environment: [String: String], executablePath: String?) -> String? {
        if let explicit = environment["INFILL_ADAPTER"], !explicit.isEmpty {
            return explicit
        }
        return adapterCandidates(executablePath: executablePath).first { FileManager.default.fileExists(atPath: $0 + "/manifest.json") }
    }

    /// Every place ``adapterFolder(environment:executablePath:)`` looks, in order.
    public static func adapterCandidates(executablePath: String?) -> [String] {
        var candidates = [FileManager.default.currentDirectoryPath + "/models/" + defaultAdapterName]
        if let executablePath {
            let resolved = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath().deletingLastPathComponent()
            for up in ["../", "../../", "../../../", "../../../../"] {
                candidates.append(resolved.appendingPathComponent(up + "models/" + defaultAdapterName).standardized.path)
            }
            candidates.append(resolved.appendingPathComponent("../share/infill/models/" + defaultAdapterName).standardized.path)
        }
        return candidates
    }

    /// Loads a GGUF model, optionally merging an adapter folder.
    public static func loadGGUF(path: String, adapterFolder: String?, name: String?) throws -> Result {
        let file = try GGUFFile(path: path)
        let config = try GGUFModelReader.config(of: file)
        let tokenizer = try GGUFTokenizerReader.tokenizer(of: file)
        var weights = try GGUFModelReader.weights(of: file, config: config)
        let adapter = try adapterFolder.map { try LoRAAdapter(folder: $0) }
        // The unmerged weights are the autoregressive parent (copy-on-write: only the matrices
        // the adapter changes are duplicated before fusing).
        let parentWeights = adapter == nil ? nil : weights
        let merged = try adapter?.merge(into: &weights, config: config) ?? 0
        let transformer = Transformer(config: config, weights: try TransformerWeights(fusing: consume weights, config: config))
        let parent = try parentWeights.map {
            CausalParent(transformer: Transformer(config: config, weights: try TransformerWeights(fusing: $0, config: config)))
        }

        let mask: TokenID, null: TokenID, shift: Bool, attention: AttentionMode
        let start = adapter?.manifest.startTokenID.map { TokenID($0) }
        if let manifest = adapter?.manifest {
            mask = TokenID(manifest.maskTokenID)
            null = TokenID(manifest.nullTokenID)
            shift = manifest.logitShift
            attention = AttentionMode(rawValue: manifest.attention) ?? .bidirectional
        } else {
            mask = try file["infill.mask_token_id"]?.intValue.map { TokenID($0) }
                ?? specialToken(in: tokenizer, ["<|mask|>", "<mask>", "<empty_output>"], path: path, role: "mask")
            null = try file["infill.null_token_id"]?.intValue.map { TokenID($0) }
                ?? tokenizer.specialTokenID("<|endoftext|>")
                ?? file["tokenizer.ggml.eos_token_id"]?.intValue.map { TokenID($0) }
                ?? specialToken(in: tokenizer, [], path: path, role: "null")
            shift = file["infill.logit_shift"]?.boolValue ?? true
            attention = .bidirectional
        }
        try checkIDs(mask: mask, null: null, vocabulary: config.vocabularySize, path: adapterFolder ?? path)
        if let start, start < 0 || Int(start) >= config.vocabularySize {
            throw ModelFileError(adapterFolder ?? path, "start token id \(start) is outside the vocabulary (0..<\(config.vocabularySize))")
        }
        let model = TransformerModel(
            transformer: transformer, attention: attention, logitShift: shift, maskTokenID: mask, nullTokenID: null,
            samplableVocabularySize: tokenizer.vocabularySize, startTokenID: start)
        let displayName = name ?? file["general.name"]?.stringValue ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let adapterName = adapter.map { $0.manifest.name }
        let description = ModelDescription(
            name: displayName, source: path, format: "GGUF v\(file.version)", config: config,
            storageTypes: GGUFModelReader.typeCounts(of: file),
            tokenizer: "byte-level BPE, \(tokenizer.vocabularySize) tokens, \(tokenizer.mergeCount) merges, pre-tokenizer \(tokenizer.preTokenizerKind.rawValue)",
            adapterFolder: adapterFolder, adapter: adapter?.manifest, mergedPairs: merged, attention: attention,
            logitShift: shift, maskTokenID: mask, nullTokenID: null, loadSeconds: 0)
        return Result(
            loaded: LoadedModel(model: model, tokenizer: tokenizer, name: displayName, adapter: adapterName, parent: parent),
            model: model, description: description)
    }

    /// Loads an HF model folder (config.json, *.safetensors, tokenizer.json).
    public static func loadHF(folder: String) throws -> Result {
        let reader = try HFModelReader(folder: folder)
        let config = reader.config
        let tokenizer = try HFTokenizerReader.tokenizer(folder: folder)
        let transformer = Transformer(config: config, weights: try TransformerWeights(fusing: try reader.weights(), config: config))
        let mask = try reader.maskTokenID.map { TokenID($0) }
            ?? specialToken(in: tokenizer, ["<|mask|>", "<mask>", "<empty_output>"], path: folder, role: "mask")
        let null = try tokenizer.specialTokenID("<|endoftext|>") ?? reader.eosTokenID.map { TokenID($0) }
            ?? specialToken(in: tokenizer, [], path: folder, role: "null")
        try checkIDs(mask: mask, null: null, vocabulary: config.vocabularySize, path: folder)
        let model = TransformerModel(
            transformer: transformer, attention: .bidirectional, logitShift: true, maskTokenID: mask, nullTokenID: null,
            samplableVocabularySize: tokenizer.vocabularySize)
        let name = URL(fileURLWithPath: folder).standardized.lastPathComponent
        let description = ModelDescription(
            name: name, source: folder, format: "HF safetensors (\(reader.shards.count) shard\(reader.shards.count == 1 ? "" : "s"))",
            config: config, storageTypes: reader.typeCounts,
            tokenizer: "byte-level BPE, \(tokenizer.vocabularySize) tokens, \(tokenizer.mergeCount) merges, pre-tokenizer \(tokenizer.preTokenizerKind.rawValue)",
            adapterFolder: nil, adapter: nil, mergedPairs: 0, attention: .bidirectional, logitShift: true,
            maskTokenID: mask, nullTokenID: null, loadSeconds: 0)
        return Result(loaded: LoadedModel(model: model, tokenizer: tokenizer, name: name, adapter: nil), model: model, description: description)
    }

    private static func specialToken(in tokenizer: BPETokenizer, _ names: [String], path: String, role: String) throws -> TokenID {
        for name in names {
            if let id = tokenizer.specialTokenID(name) { return id }
        }
        throw ModelFileError(path, "no \(role) token: set infill.\(role)_token_id in the GGUF metadata (or mask_token_id in config.json)")
    }

    private static func checkIDs(mask: TokenID, null: TokenID, vocabulary: Int, path: String) throws {
        for (role, id) in [("mask", mask), ("null", null)] where id < 0 || Int(id) >= vocabulary {
            throw ModelFileError(path, "\(role) token id \(id) is outside the vocabulary (0..<\(vocabulary))")
        }
    }
}
