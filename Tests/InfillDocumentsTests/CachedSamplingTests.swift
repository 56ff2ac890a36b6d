import Foundation
import InfillModel
import InfillSampling
import Testing

/// The sampler driving a real transformer with the approximate KV cache.
@Suite struct CachedSamplingTests {
    static let model: TransformerModel = {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/tiny-llama.gguf").standardized.path
        return try! ModelLoader.loadGGUF(path: path, adapterFolder: nil, name: nil).model
    }()

    static func canvas(seed: UInt64) -> Canvas {
        Canvas(segments: [.context([1, 20, 30, 40]), .gap(length: 10, GapConstraints()), .context([50, 60]),
                          .gap(length: 6, GapConstraints()), .context([70])],
               maskTokenID: model.maskTokenID, seed: seed)
    }

    @Test(arguments: [CacheMode.dual, .prefix])
    func refreshingEveryStepReproducesTheUncachedRun(mode: CacheMode) throws {
        let sampler = DiffusionSampler(model: Self.model)
        for seed in 0..<3 as Range<UInt64> {
            let plain = SamplingParameters(blockLength: 4, temperature: 0.7, seed: seed)
            var cached = plain
            cached.cache = mode
            cached.refreshInterval = 1
            let a = try sampler.sample([Self.canvas(seed: seed)], parameters: plain)[0]
            let b = try sampler.sample([Self.canvas(seed: seed)], parameters: cached)[0]
            #expect(a.canvasTokens == b.canvasTokens)
        }
    }

    @Test func theDualCacheFillsEveryMaskAndBatchesCanvases() throws {
        let sampler = DiffusionSampler(model: Self.model)
        let p = SamplingParameters(blockLength: 4, temperature: 0.7, cache: .dual)
        let batch = try sampler.sample([Self.canvas(seed: 1), Self.canvas(seed: 2)], parameters: p)
        let one = try sampler.sample([Self.canvas(seed: 2)], parameters: p)[0]
        #expect(batch[1].canvasTokens == one.canvasTokens)
        for r in batch { #expect(!r.canvasTokens.contains(Self.model.maskTokenID)) }
    }
}
