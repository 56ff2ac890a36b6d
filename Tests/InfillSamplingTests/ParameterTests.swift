import Foundation
import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

@Suite struct ParameterTests {
    @Test func decodesTheReferenceNames() throws {
        let json = #"{"steps":32,"algorithm":"maskgit_plus","alg_temp":0.5,"block_length":8,"threshold":0.9,"temperature":0.3,"top_p":0.95,"top_k":50,"eps":0.01,"seed":7,"candidates":3}"#
        let p = try JSONDecoder().decode(SamplingParameters.self, from: Data(json.utf8))
        #expect(p == SamplingParameters(steps: 32, algorithm: .maskgitPlus, algorithmTemperature: 0.5, blockLength: 8,
                                        threshold: 0.9, temperature: 0.3, topP: 0.95, topK: 50, eps: 0.01, seed: 7))
        let defaults = try JSONDecoder().decode(SamplingParameters.self, from: Data("{}".utf8))
        #expect(defaults == SamplingParameters())
        let again = try JSONDecoder().decode(SamplingParameters.self, from: JSONEncoder().encode(p))
        #expect(again == p)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SamplingParameters.self, from: Data(#"{"algorithm":"greedy"}"#.utf8))
        }
    }

    @Test func badParametersAreRejected() {
        let model = HashedLogitsModel()
        let bad: [SamplingParameters] = [
            SamplingParameters(steps: 0), SamplingParameters(blockLength: 0), SamplingParameters(threshold: 1.5),
            SamplingParameters(temperature: -1), SamplingParameters(topP: 0), SamplingParameters(topK: -2),
            SamplingParameters(eps: 1), SamplingParameters(algorithmTemperature: -0.1),
        ]
        for p in bad {
            #expect(throws: SamplingError.self) { try DiffusionSampler(model: model).sample([infillCanvas("a", 3)], parameters: p) }
        }
    }

    @Test func badCanvasesAreRejectedWithTheirIndex() {
        let model = HashedLogitsModel(maxSequenceLength: 64)
        var overlapping = infillCanvas("ab", 6)
        overlapping.gaps.append(Gap(range: 4..<7))
        var pinOutside = infillCanvas("ab", 6)
        pinOutside.pins = [40: 65]
        var gapOnContext = infillCanvas("ab", 6)
        gapOnContext.gaps = [Gap(range: 0..<4)]
        let cases: [Canvas] = [
            overlapping, pinOutside, gapOnContext, infillCanvas("a", 70),
            Canvas(tokens: [65, 999, mask]),
            infillCanvas("a", 3, constraints: GapConstraints(minTokens: 4)),
            infillCanvas("a", 3, constraints: GapConstraints(keywords: [[]])),
            infillCanvas("a", 3, constraints: GapConstraints(logitBias: [65: .infinity])),
            infillCanvas("a", 3, constraints: GapConstraints(bannedSequences: [[]])),
        ]
        for canvas in cases {
            #expect {
                try DiffusionSampler(model: model).sample([infillCanvas("ok", 2), canvas])
            } throws: { error in
                guard case SamplingError.invalidCanvas(canvas: 1, let message) = error else { return false }
                return !message.isEmpty
            }
        }
    }
}
