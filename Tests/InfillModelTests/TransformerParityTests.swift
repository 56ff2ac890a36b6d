import Foundation
import Testing
@testable import InfillModel

/// The engine against tools/reference/reference.py (float64 numpy) on the tiny fixtures.
@Suite struct TransformerParityTests {
    static func load(_ model: String, adapter: String?) throws -> ModelLoader.Result {
        if model.hasSuffix(".gguf") {
            return try ModelLoader.loadGGUF(
                path: EngineFixtures.path(model), adapterFolder: adapter.map(EngineFixtures.path), name: nil)
        }
        return try ModelLoader.loadHF(folder: EngineFixtures.path(model))
    }

    @Test func referenceCasesArePresent() {
        #expect(EngineFixtures.reference.cases.count >= 11)
    }

    @Test(arguments: EngineFixtures.reference.cases.indices)
    func matchesReference(index: Int) throws {
        let c = EngineFixtures.reference.cases[index]
        let result = try Self.load(c.model, adapter: c.adapter)
        let mode = try #require(AttentionMode(rawValue: c.attention))
        let logits = try result.model.transformer.logits(sequences: [c.tokens], outputRows: [c.rows], attention: mode)[0]
        #expect(logits.rows == c.rows.count)
        for (r, expected) in c.logits.enumerated() {
            let error = EngineFixtures.relativeError(Array(logits[row: r]), expected)
            #expect(error < 1e-4, "\(c.model) \(c.adapter ?? "") \(c.attention) row \(c.rows[r]): relative error \(error)")
        }
    }

    @Test func hfAndGGUFLayoutsGiveTheSameModelShape() throws {
        let qwen = try Self.load("tiny-qwen2", adapter: nil)
        #expect(qwen.description.config.attentionBias)
        #expect(!qwen.description.config.tiedEmbeddings)
        #expect(qwen.description.config.kvHeadCount == 1)
        #expect(qwen.description.storageTypes["BF16"] ?? 0 > 0)
        #expect(qwen.description.storageTypes["F32"] ?? 0 > 0)
        #expect(qwen.model.maskTokenID == 3)
        let llama = try Self.load("tiny-llama.gguf", adapter: nil)
        #expect(llama.description.config.tiedEmbeddings)
        #expect(llama.description.config.parameterCount == 99_648)
    }

    @Test func unpermuteInvertsLlamaCppPermutation() {
        // 2 heads of dimension 4, 1 column: HF rows 0...7; GGUF order interleaves each head's halves.
        let gguf: [Float] = [0, 2, 1, 3, 4, 6, 5, 7]
        #expect(GGUFModelReader.unpermute(gguf, heads: 2, columns: 1) == [0, 1, 2, 3, 4, 5, 6, 7])
    }
}
