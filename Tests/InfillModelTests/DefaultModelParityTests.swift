import Foundation
import Testing
@testable import InfillModel

/// The repository's diffusion adapter folder (models/smollm2-135m-diffusion).
let defaultAdapterFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("models/\(ModelLoader.defaultAdapterName)").path

/// Whether the base GGUF and the adapter with its PyTorch parity fixture are all present.
let defaultModelAvailable = ModelCache.default.hasBaseModel
    && FileManager.default.fileExists(atPath: defaultAdapterFolder + "/parity.json")

/// The merged default model (base + adapter) against the training code's PyTorch logits (parity.json).
@Suite(.enabled(if: defaultModelAvailable, "base model or models/smollm2-135m-diffusion/parity.json missing: run `infill model fetch`"))
struct DefaultModelParityTests {
    struct Parity: Decodable {
        struct Canvas: Decodable {
            struct Position: Decodable {
                var position: Int
                var top_ids: [Int]
                var top_logits: [Float]
            }
            var tokens: [Int32]
            var positions: [Position]
        }
        var mask_token_id: Int
        var canvases: [Canvas]
    }

    @Test func mergedAdapterMatchesPyTorch() throws {
        let data = try #require(FileManager.default.contents(atPath: defaultAdapterFolder + "/parity.json"))
        let parity = try JSONDecoder().decode(Parity.self, from: data)
        let result = try ModelLoader.loadGGUF(
            path: ModelCache.default.baseModelURL.path, adapterFolder: defaultAdapterFolder, name: BaseModel.name)
        #expect(result.model.maskTokenID == TokenID(parity.mask_token_id))
        #expect(result.model.logitShift && result.model.attention == .bidirectional)
        for canvas in parity.canvases {
            let request = PredictionRequest(tokens: canvas.tokens, positions: canvas.positions.map(\.position))
            let logits = try result.model.predict([request])[0]
            for (r, expected) in canvas.positions.enumerated() {
                let values = Array(logits[row: r])
                let top = values.indices.filter { $0 != parity.mask_token_id }.sorted { values[$0] > values[$1] }.prefix(expected.top_ids.count)
                #expect(Set(top) == Set(expected.top_ids), "position \(expected.position): top ids \(Array(top)) vs \(expected.top_ids)")
                for (id, logit) in zip(expected.top_ids, expected.top_logits) {
                    #expect(abs(values[id] - logit) <= 1e-3 * abs(logit), "position \(expected.position), id \(id): \(values[id]) vs \(logit)")
                }
            }
        }
    }
}
