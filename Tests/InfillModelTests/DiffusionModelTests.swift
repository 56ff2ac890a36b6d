import Foundation
import Testing
@testable import InfillModel

/// Dream- and LLaDA-layout checkpoints (HF folders and GGUFs) against the independent reference
/// (tools/reference/diffusion_reference.py via make_diffusion_fixtures.py, float64 numpy).
@Suite struct DiffusionModelTests {
    struct Case: Decodable {
        var model: String
        var kind: String
        var tokens: [Int32]
        var rows: [Int]
        var shift: Bool
        var logits: [[Float]]
    }

    struct Reference: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        let data = FileManager.default.contents(atPath: EngineFixtures.path("diffusion-reference.json")) ?? Data()
        return (try? JSONDecoder().decode(Reference.self, from: data))?.cases ?? []
    }()

    static func load(_ model: String, available: Int? = nil) throws -> ModelLoader.Result {
        if model.hasSuffix(".gguf") {
            return try ModelLoader.loadGGUF(path: EngineFixtures.path(model), adapterFolder: nil, name: nil, available: available)
        }
        return try ModelLoader.loadHF(folder: EngineFixtures.path(model), available: available)
    }

    /// Ids of the `k` largest values, ties by id.
    static func top(_ values: [Float], _ k: Int) -> [Int] {
        Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
    }

    @Test func everyLayoutHasBothKinds() {
        let seen = Set(Self.cases.map { "\($0.model) \($0.kind)" })
        for model in ["tiny-dream", "tiny-llada", "tiny-dream.gguf", "tiny-llada.gguf"] {
            #expect(seen.contains("\(model) forward") && seen.contains("\(model) denoise"), "\(model)")
        }
    }

    @Test(arguments: cases.indices)
    func matchesReference(index: Int) throws {
        let c = Self.cases[index]
        let result = try Self.load(c.model)
        #expect(result.model.logitShift == c.shift)
        let logits: LogitMatrix
        if c.kind == "forward" {
            logits = try result.model.transformer.logits(sequences: [c.tokens], outputRows: [c.rows], attention: .bidirectional)[0]
        } else {
            // Through the denoiser: the model applies its own shift, so row r is the token at rows[r].
            logits = try result.model.predict([PredictionRequest(tokens: c.tokens, positions: c.rows)])[0]
        }
        for (r, expected) in c.logits.enumerated() {
            let row = Array(logits[row: r])
            let worst = zip(row, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-3, "\(c.model) \(c.kind) row \(c.rows[r]): max |Δ| \(worst)")
            #expect(Self.top(row, 5) == Self.top(expected, 5), "\(c.model) \(c.kind) row \(c.rows[r]): top-5 ids differ")
        }
    }

    @Test func dreamConventions() throws {
        for model in ["tiny-dream", "tiny-dream.gguf"] {
            let result = try Self.load(model)
            let d = result.description
            #expect(d.config.architecture == "dream")
            #expect(d.config.attentionBias && !d.config.tiedEmbeddings)
            #expect(d.config.vocabularySize == 336 && result.model.samplableVocabularySize == 320)
            #expect(d.logitShift && d.attention == .bidirectional)
            #expect(d.maskTokenID == 3, "<|mask|>")
            #expect(d.nullTokenID == 0, "pads with <|endoftext|>")
            #expect(d.endTokenIDs.contains(0) && d.endTokenIDs.contains(2), "\(d.endTokenIDs): <|endoftext|>, <|im_end|>")
        }
    }

    @Test func lladaConventions() throws {
        for model in ["tiny-llada", "tiny-llada.gguf"] {
            let result = try Self.load(model)
            let d = result.description
            #expect(d.config.architecture == "llada")
            #expect(!d.config.attentionBias && !d.config.tiedEmbeddings)
            #expect(d.config.vocabularySize == 336 && d.config.intermediateSize == (model.hasSuffix(".gguf") ? 256 : 64))
            #expect(!d.logitShift && d.attention == .bidirectional)
            #expect(d.maskTokenID == 3, "<|mdm_mask|>")
            #expect(d.nullTokenID == 0)
            #expect(d.endTokenIDs.contains(0) && d.endTokenIDs.contains(2), "\(d.endTokenIDs): <|endoftext|>, <|eot_id|>")
        }
        #expect(try Self.load("tiny-llada.gguf").description.storageTypes["Q5_K"] == 1)
        #expect(try Self.load("tiny-dream.gguf").description.storageTypes["Q4_K"] == 1)
    }

    /// A copy of fixture folder `name` with `config.json` edited by `edit`.
    static func editedCopy(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> String {
        let source = EngineFixtures.path(name)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("infill-\(name)-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        let configPath = copy + "/config.json"
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as? [String: Any])
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: configPath))
        return copy
    }

    static func failure(_ body: () throws -> Any) -> ModelFileError? {
        do { _ = try body() } catch let error as ModelFileError { return error } catch { return nil }
        return nil
    }

    @Test func missingTensorIsNamed() throws {
        let folder = try Self.editedCopy("tiny-llada") { $0["n_layers"] = 3 }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.reason.contains("missing tensor 'model.transformer.blocks.2.attn_norm.weight'"), "\(error)")
    }

    @Test func unexpectedTensorIsNamedWithItsShard() throws {
        let folder = try Self.editedCopy("tiny-dream") { $0["num_hidden_layers"] = 1 }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.reason.contains("unexpected tensor 'model.layers.1."), "\(error)")
        #expect(error.path.hasSuffix(".safetensors"))
    }

    @Test func misShapedTensorIsNamed() throws {
        let folder = try Self.editedCopy("tiny-llada") { $0["mlp_hidden_size"] = 128 }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.reason.contains("'model.transformer.blocks.0.ff_proj.weight' has shape [64, 32], expected [128, 32]"), "\(error)")
    }

    @Test func unsupportedOLMoOptionIsRefused() throws {
        let folder = try Self.editedCopy("tiny-llada") { $0["alibi"] = true }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.path.hasSuffix("config.json") && error.reason.contains("'alibi'"), "\(error)")
    }

    @Test func indexNamingAMissingShardIsRefused() throws {
        let folder = try Self.editedCopy("tiny-dream") { _ in }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let indexPath = folder + "/model.safetensors.index.json"
        var index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath))) as? [String: Any])
        var map = try #require(index["weight_map"] as? [String: String])
        map["lm_head.weight"] = "model-00003-of-00003.safetensors"
        index["weight_map"] = map
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: indexPath))
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.path.hasSuffix("model-00003-of-00003.safetensors") && error.reason.contains("lm_head.weight"), "\(error)")
    }

    @Test func unexpectedGGUFTensorIsNamed() throws {
        var bytes = EngineFixtures.bytes("tiny-llada.gguf")
        let needle = Array("blk.1.ffn_up.weight".utf8)
        let at = try #require((0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes.replaceSubrange(at..<(at + needle.count), with: Array("blk.1.ffn_XX.weight".utf8))
        let path = EngineFixtures.temporaryFile(bytes, name: "renamed.gguf")
        let error = try #require(Self.failure { try ModelLoader.loadGGUF(path: path, adapterFolder: nil, name: nil, available: nil) })
        #expect(error.path == path && error.reason.contains("'blk.1.ffn_XX.weight'"), "\(error)")
    }

    @Test func modelThatDoesNotFitIsRefusedWithBothNumbers() throws {
        for model in ["tiny-dream", "tiny-llada.gguf"] {
            let error = try #require(Self.failure { try Self.load(model, available: 1 << 20) })
            #expect(error.reason.contains("does not fit in memory"), "\(error)")
            #expect(error.reason.contains("but 1.0 MiB are available"), "\(error)")
            #expect(error.reason.contains("needs an estimated "), "\(error)")
        }
    }

    @Test func truncatedShardIsNamed() throws {
        let folder = try Self.editedCopy("tiny-dream") { _ in }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let shard = folder + "/model-00001-of-00002.safetensors"
        let data = try Data(contentsOf: URL(fileURLWithPath: shard))
        try data.prefix(data.count - 100).write(to: URL(fileURLWithPath: shard))
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.path == shard && error.reason.contains("truncated"), "\(error)")
    }

    @Test func weightsOfTheOtherLayoutAreRefusedByName() throws {
        // LLaDA's tensors under a config that says Dream.
        let dreamConfig = try Data(contentsOf: URL(fileURLWithPath: EngineFixtures.path("tiny-dream/config.json")))
        let dream = try #require(try JSONSerialization.jsonObject(with: dreamConfig) as? [String: Any])
        let folder = try Self.editedCopy("tiny-llada") { json in json = dream }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let error = try #require(Self.failure { try ModelLoader.loadHF(folder: folder, available: nil) })
        #expect(error.reason.contains("unexpected tensor 'model.transformer."), "\(error)")
        #expect(error.reason.contains("not part of a dream model"), "\(error)")
    }
}
