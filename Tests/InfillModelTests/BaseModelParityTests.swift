import Foundation
import Testing
@testable import InfillModel

/// The engine on the real base model against tools/reference/base_reference.py.
///
/// Skipped when the base GGUF is not in the model cache (`infill model fetch` puts it there; CI fetches it).
/// Whether the base GGUF is in the model cache.
let baseModelAvailable = ModelCache.default.hasBaseModel

@Suite(.enabled(if: baseModelAvailable, "base model not in the cache: run `infill model fetch` to enable the parity tests"))
struct BaseModelParityTests {
    static let model: ModelLoader.Result? = try? ModelLoader.loadGGUF(
        path: ModelCache.default.baseModelURL.path, adapterFolder: nil, name: BaseModel.name)

    struct Case: Decodable {
        var text: String
        var tokens: [Int32]
        var attention: String
        var top_ids: [Int]
        var top_logits: [Float]
    }

    struct Reference: Decodable { var cases: [Case] }

    static let reference: Reference? = {
        guard let data = FileManager.default.contents(atPath: EngineFixtures.path("base-reference.json")) else { return nil }
        return try? JSONDecoder().decode(Reference.self, from: data)
    }()

    @Test func topLogitsMatchTheReference() throws {
        let result = try #require(Self.model)
        let reference = try #require(Self.reference)
        #expect(reference.cases.count >= 3)
        for c in reference.cases {
            let mode = try #require(AttentionMode(rawValue: c.attention))
            let row = try result.model.transformer.logits(sequences: [c.tokens], outputRows: [[c.tokens.count - 1]], attention: mode)[0]
            let values = Array(row[row: 0])
            let top = values.indices.sorted { values[$0] > values[$1] }.prefix(10)
            #expect(Array(top) == Array(c.top_ids.prefix(10)), "\(c.text.debugDescription): top-10 ids differ")
            for (id, expected) in zip(c.top_ids.prefix(10), c.top_logits) {
                #expect(abs(values[id] - expected) <= 1e-3 * abs(expected), "\(c.text.debugDescription): id \(id) \(values[id]) vs \(expected)")
            }
        }
    }

    @Test func tokenizerGivesTheReferenceIDs() throws {
        let result = try #require(Self.model)
        for c in try #require(Self.reference).cases {
            #expect(result.loaded.tokenizer.encode(c.text) == c.tokens)
        }
    }

    @Test func greedyContinuationKnowsParis() throws {
        let result = try #require(Self.model)
        let tokenizer = result.loaded.tokenizer
        var tokens = tokenizer.encode("The capital of France is")
        for _ in 0..<6 {
            let row = try result.model.transformer.logits(sequences: [tokens], outputRows: [[tokens.count - 1]], attention: .causal)[0]
            let values = Array(row[row: 0])
            let best = values.indices.max { values[$0] < values[$1] } ?? 0
            tokens.append(TokenID(best))
        }
        let text = tokenizer.decode(tokens)
        #expect(text.contains("Paris"), "continuation: \(text.debugDescription)")
    }
}
