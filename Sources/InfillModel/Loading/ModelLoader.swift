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
        let available = MemoryBudget.availableBytes(environment: environment)
        var result: Result
        if spec == "default" {
            let files = try defaultModelFiles(environment: environment, executablePath: executablePath, withAdapter: mergeAdapter)
            result = try loadGGUF(
                path: files.base, adapterFolder: files.adapter, name: BaseModel.name, available: available, environment: environment)
        } else {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: spec, isDirectory: &isFolder) else {
                throw ModelFileError(spec, "no such file or folder (--model takes 'default', a GGUF file or an HF model folder)")
            }
            result = isFolder.boolValue
                ? try loadHF(folder: spec, available: available, environment: environment)
                : try loadGGUF(path: spec, adapterFolder: nil, name: nil, available: available, environment: environment)
        }
        var description = result.description
        description.loadSeconds = (ContinuousClock.now - started) / .seconds(1)
        return Result(loaded: result.loaded, model: result.model, description: description)
    }

    /// The default model's files: the fetched base GGUF and, `withAdapter`, the diffusion adapter folder.
    /// - Throws: ``ModelFileError`` when either is missing, saying how to get it.
    public static func defaultModelFiles(
        environment: [String: String], executablePath: String?, withAdapter: Bool = true
    ) throws -> (base: String, adapter: String?) {
        let base = ModelCache(environment: environment).baseModelURL.path
        guard FileManager.default.fileExists(atPath: base) else {
            throw ModelFileError(base, "the default base model is not there; run `infill model fetch` first")
        }
        guard withAdapter else { return (base, nil) }
        guard let adapter = adapterFolder(environment: environment, executablePath: executablePath) else {
            // The base model alone, bidirectional, writes newlines: never degrade silently.
            throw ModelFileError(
                defaultAdapterName,
                "the default model's diffusion adapter is missing; looked in "
                    + adapterCandidates(executablePath: executablePath).joined(separator: ", ")
                    + " (set INFILL_ADAPTER to its folder)")
        }
        return (base, adapter)
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
    ///
    /// - Parameters:
    ///   - available: bytes of memory the model may use (``MemoryBudget/availableBytes(environment:)``);
    ///     a model whose estimate exceeds it is refused before any weight is read.
    ///   - storage: how the weights are held; nil chooses by size (``WeightStorage/choose(for:environment:)``).
    ///     A merged adapter needs fp32.
    public static func loadGGUF(
        path: String, adapterFolder: String?, name: String?, available: Int? = MemoryBudget.availableBytes(),
        environment: [String: String] = ProcessInfo.processInfo.environment, storage: WeightStorage? = nil
    ) throws -> Result {
        let file = try GGUFFile(path: path)
        let config = try GGUFModelReader.config(of: file)
        let family = GGUFModelReader.family(of: file) ?? .llama
        let adapter = try adapterFolder.map { try LoRAAdapter(folder: $0) }
        let chosen = adapter != nil ? .fp32 : try storage ?? WeightStorage.choose(for: config, environment: environment)
        try checkMemory(
            config: config, weightBytes: GGUFModelReader.weightBytes(of: file, config: config, storage: chosen) * (adapter == nil ? 1 : 2),
            storage: chosen, source: path, available: available)
        let tokenizer = try GGUFTokenizerReader.tokenizer(of: file)
        var weights = try GGUFModelReader.weights(of: file, config: config, storage: chosen)
        // The unmerged weights are the autoregressive parent (copy-on-write: only the matrices
        // the adapter changes are duplicated before fusing).
        let parentWeights = adapter == nil ? nil : weights
        let merged = try adapter?.merge(into: &weights, config: config) ?? 0
        let transformer = Transformer(config: config, weights: try TransformerWeights(fusing: consume weights, config: config))
        let parent = try parentWeights.map {
            CausalParent(transformer: Transformer(config: config, weights: try TransformerWeights(fusing: $0, config: config)))
        }

        let mask: TokenID, null: TokenID, shift: Bool, attention: AttentionMode
        // A merged export (DreamGGUFExport) keeps the adapter's start token in its metadata.
        let start = (adapter?.manifest.startTokenID ?? file["infill.start_token_id"]?.intValue).map { TokenID($0) }
        let eos = file["tokenizer.ggml.eos_token_id"]?.intValue.map { TokenID($0) }
        if let manifest = adapter?.manifest {
            mask = TokenID(manifest.maskTokenID)
            null = TokenID(manifest.nullTokenID)
            shift = manifest.logitShift
            attention = AttentionMode(rawValue: manifest.attention) ?? .bidirectional
        } else {
            mask = try (file["infill.mask_token_id"] ?? file["tokenizer.ggml.mask_token_id"])?.intValue.map { TokenID($0) }
                ?? specialToken(in: tokenizer, ModelFamily.maskTokenNames, path: path, role: "mask", fallback: family.publishedMaskTokenID)
            // A published diffusion model pads a text's tail with its end-of-text token.
            null = try file["infill.null_token_id"]?.intValue.map { TokenID($0) }
                ?? (family.isDiffusion ? eos : nil)
                ?? tokenizer.specialTokenID("<|endoftext|>")
                ?? eos
                ?? specialToken(in: tokenizer, [], path: path, role: "null")
            shift = file["diffusion.shift_logits"]?.boolValue ?? file["infill.logit_shift"]?.boolValue ?? family.defaultLogitShift
            attention = .bidirectional
        }
        let ends = endTokens(
            [eos, file["tokenizer.ggml.eot_token_id"]?.intValue.map { TokenID($0) }].compactMap { $0 }, tokenizer: tokenizer)
        try checkIDs(mask: mask, null: null, vocabulary: config.vocabularySize, path: adapterFolder ?? path)
        if let start, start < 0 || Int(start) >= config.vocabularySize {
            throw ModelFileError(adapterFolder ?? path, "start token id \(start) is outside the vocabulary (0..<\(config.vocabularySize))")
        }
        let model = TransformerModel(
            transformer: transformer, attention: attention, logitShift: shift, maskTokenID: mask, nullTokenID: null,
            samplableVocabularySize: tokenizer.vocabularySize, startTokenID: start)
        let chat = ChatTemplateReader.recognition(of: file, tokenizer: tokenizer)
        let layout = instructionLayout(chat, adapter: adapter?.manifest)
        let displayName = name ?? file["general.name"]?.stringValue ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let adapterName = adapter.map { $0.manifest.name }
        let description = ModelDescription(
            name: displayName, source: path, format: "GGUF v\(file.version)", config: config,
            storageTypes: GGUFModelReader.typeCounts(of: file),
            tokenizer: tokenizerSummary(tokenizer),
            adapterFolder: adapterFolder, adapter: adapter?.manifest, mergedPairs: merged, attention: attention,
            logitShift: shift, maskTokenID: mask, nullTokenID: null, endTokenIDs: ends, weightStorage: chosen,
            weightBytes: transformer.weights.byteCount, loadSeconds: 0,
            chatTemplate: chat, instructionLayout: layout)
        return Result(
            loaded: LoadedModel(model: model, tokenizer: tokenizer, name: displayName, adapter: adapterName, parent: parent,
                                chatTemplate: chat.template, instructionLayout: layout),
            model: model, description: description)
    }

    /// Loads an HF model folder (config.json, *.safetensors with an optional index, tokenizer.json).
    ///
    /// Dream and LLaDA folders get their published conventions: the mask id and end ids of their
    /// config, Dream's logit shift, LLaDA's unshifted logits, bidirectional attention.
    public static func loadHF(
        folder: String, available: Int? = MemoryBudget.availableBytes(),
        environment: [String: String] = ProcessInfo.processInfo.environment, storage: WeightStorage? = nil
    ) throws -> Result {
        let reader = try HFModelReader(folder: folder)
        let config = reader.config
        let chosen = try storage ?? WeightStorage.choose(for: config, environment: environment)
        try checkMemory(config: config, weightBytes: reader.weightBytes(storage: chosen), storage: chosen, source: folder, available: available)
        let tokenizer = try HFTokenizerReader.tokenizer(folder: folder)
        let transformer = Transformer(
            config: config, weights: try TransformerWeights(fusing: try reader.weights(storage: chosen), config: config))
        let mask = try reader.maskTokenID.map { TokenID($0) }
            ?? specialToken(in: tokenizer, ModelFamily.maskTokenNames, path: folder, role: "mask",
                            fallback: reader.family.publishedMaskTokenID)
        let eos = reader.eosTokenID.map { TokenID($0) }
        let null = try (reader.family.isDiffusion ? eos : nil) ?? tokenizer.specialTokenID("<|endoftext|>") ?? eos
            ?? specialToken(in: tokenizer, [], path: folder, role: "null")
        let shift = reader.family.defaultLogitShift
        let ends = endTokens(reader.endTokenIDs.map { TokenID($0) }, tokenizer: tokenizer)
        try checkIDs(mask: mask, null: null, vocabulary: config.vocabularySize, path: folder)
        let model = TransformerModel(
            transformer: transformer, attention: .bidirectional, logitShift: shift, maskTokenID: mask, nullTokenID: null,
            samplableVocabularySize: tokenizer.vocabularySize)
        let name = URL(fileURLWithPath: folder).standardized.lastPathComponent
        let chat = ChatTemplateReader.recognition(folder: folder, tokenizer: tokenizer)
        let layout = instructionLayout(chat, adapter: nil)
        let description = ModelDescription(
            name: name, source: folder, format: "HF safetensors (\(reader.shards.count) shard\(reader.shards.count == 1 ? "" : "s"))",
            config: config, storageTypes: reader.typeCounts,
            tokenizer: tokenizerSummary(tokenizer),
            adapterFolder: nil, adapter: nil, mergedPairs: 0, attention: .bidirectional, logitShift: shift,
            maskTokenID: mask, nullTokenID: null, endTokenIDs: ends, weightStorage: chosen,
            weightBytes: transformer.weights.byteCount, loadSeconds: 0,
            chatTemplate: chat, instructionLayout: layout)
        return Result(
            loaded: LoadedModel(model: model, tokenizer: tokenizer, name: name, adapter: nil,
                                chatTemplate: chat.template, instructionLayout: layout),
            model: model, description: description)
    }

    /// Where a model's canvases put instructions by default: in a chat turn for a model with a
    /// recognised template (Dream and LLaDA Instruct were tuned on chat turns; the default model
    /// reads better so too, docs/PIPELINES.md), unless a merged adapter's manifest says otherwise
    /// (`instructions`); in parentheses without a template.
    static func instructionLayout(_ chat: ChatTemplate.Recognition, adapter: AdapterManifest?) -> InstructionLayout {
        guard chat.template != nil else { return .inline }
        return adapter?.instructionLayout ?? .chat
    }

    /// Refuses a model whose weights (`weightBytes` as `storage` holds them) and working memory would not fit.
    static func checkMemory(config: TransformerConfig, weightBytes: Int, storage: WeightStorage, source: String, available: Int?) throws {
        let tile = storage == .stored ? 4 * WeightMatrix.tileRows(columns: config.intermediateSize) * config.intermediateSize : 0
        // Small fp32 models are packed matrix by matrix (TransformerWeights.packingLimitBytes): one
        // fused matrix's copy on top while loading, panels padded to 64 outputs.
        let packing = storage == .fp32 && weightBytes <= TransformerWeights.packingLimitBytes
            ? 4 * 2 * config.intermediateSize * config.hiddenSize + 4 * 64 * config.hiddenSize : 0
        try MemoryBudget.check(
            estimated: MemoryBudget.estimate(weightBytes: weightBytes + packing + tile, config: config), available: available, source: source,
            detail: "\(MemoryBudget.gib(weightBytes)) of \(storage.rawValue) weights for \(config.parameterCount) parameters, plus working memory")
    }

    /// `ids` followed by the tokenizer's end-of-text and end-of-turn tokens, without repeats.
    private static func endTokens(_ ids: [TokenID], tokenizer: BPETokenizer) -> [TokenID] {
        let named = ModelFamily.endTokenNames.compactMap { tokenizer.specialTokenID($0) }
        return (ids + named).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    private static func tokenizerSummary(_ tokenizer: BPETokenizer) -> String {
        "byte-level BPE, \(tokenizer.vocabularySize) tokens, \(tokenizer.mergeCount) merges, pre-tokenizer \(tokenizer.preTokenizerKind.rawValue)"
    }

    /// The first of `names` the tokenizer has, else `fallback` when it is inside the vocabulary.
    private static func specialToken(
        in tokenizer: BPETokenizer, _ names: [String], path: String, role: String, fallback: Int? = nil
    ) throws -> TokenID {
        for name in names {
            if let id = tokenizer.specialTokenID(name) { return id }
        }
        if let fallback, fallback < tokenizer.vocabularySize { return TokenID(fallback) }
        throw ModelFileError(path, "no \(role) token: set infill.\(role)_token_id in the GGUF metadata (or mask_token_id in config.json)")
    }

    private static func checkIDs(mask: TokenID, null: TokenID, vocabulary: Int, path: String) throws {
        for (role, id) in [("mask", mask), ("null", null)] where id < 0 || Int(id) >= vocabulary {
            throw ModelFileError(path, "\(role) token id \(id) is outside the vocabulary (0..<\(vocabulary))")
        }
    }
}
