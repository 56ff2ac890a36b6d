import Foundation
import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

@Suite struct TokenDistributionTests {
    @Test func topKKeepsTheKLargestAndTies() {
        var logits: [Float] = [1, 5, 3, 5, 2, -.infinity]
        TokenDistribution.keepTopK(&logits, k: 2)
        let inf = -Float.infinity
        let expectedTwo: [Float] = [inf, 5, inf, 5, inf, inf]
        #expect(logits == expectedTwo)
        var three: [Float] = [1, 5, 3, 4, 2]
        TokenDistribution.keepTopK(&three, k: 3)
        let expectedThree: [Float] = [inf, 5, 3, 4, inf]
        #expect(three == expectedThree)
    }

    @Test func topPKeepsTheSmallestPrefixReachingTheMass() {
        var p: [Float] = [0.1, 0.5, 0.3, 0.05, 0.05]
        TokenDistribution.keepTopP(&p, mass: 0.7)
        // 0.5 then 0.3 (mass before it 0.5 ≤ 0.7) then 0.1 has 0.8 before it: dropped.
        #expect(abs(p[1] - 0.625) < 1e-6 && abs(p[2] - 0.375) < 1e-6)
        #expect(p[0] == 0 && p[3] == 0 && p[4] == 0)
        var one: [Float] = [0.2, 0.8]
        TokenDistribution.keepTopP(&one, mass: 0.1)
        #expect(one == [0, 1])
    }

    @Test func topPThenTopKKeepTheShorterPrefix() throws {
        let model = HashedLogitsModel(logitWidth: 4)
        var rng = SeededGenerator(seed: 1)
        // p ≈ [0.64, 0.24, 0.09, 0.03]: top-p 0.95 keeps 3 tokens, top-k 2 keeps 2.
        let row: [Float] = [3, 2, 1, 0]
        var hits = Set<TokenID>()
        let d = TokenDistribution(model: model, parameters: SamplingParameters(algorithm: .maskgitPlus, temperature: 1, topP: 0.95, topK: 2))
        for _ in 0..<400 {
            let c = try d.candidate(row: row[...], position: 0, bias: [:], allowsNull: true, excluded: [], rng: &rng)
            hits.insert(c?.token ?? -1)
        }
        #expect(hits == [0, 1])
        let wide = TokenDistribution(model: model, parameters: SamplingParameters(algorithm: .maskgitPlus, temperature: 1, topP: 0.7))
        hits = []
        for _ in 0..<400 {
            hits.insert(try wide.candidate(row: row[...], position: 0, bias: [:], allowsNull: true, excluded: [], rng: &rng)?.token ?? -1)
        }
        #expect(hits == [0, 1])
    }

    @Test func confidencesFollowTheReferenceDefinitions() throws {
        let model = HashedLogitsModel(logitWidth: 3)
        var rng = SeededGenerator(seed: 1)
        let row: [Float] = [log(0.5), log(0.3), log(0.2)]
        func conf(_ a: RemaskingAlgorithm, temperature: Float = 0) throws -> Candidate {
            let d = TokenDistribution(model: model, parameters: SamplingParameters(algorithm: a, temperature: temperature))
            return try #require(try d.candidate(row: row[...], position: 0, bias: [:], allowsNull: true, excluded: [], rng: &rng))
        }
        #expect(abs(try conf(.maskgitPlus).confidence - 0.5) < 1e-5)
        #expect(try conf(.maskgitPlus).token == 0)
        #expect(abs(try conf(.topkMargin).confidence - 0.2) < 1e-5)
        let entropy = 0.5 * log(0.5) + 0.3 * log(0.3) + 0.2 * log(0.2)
        #expect(abs(try conf(.entropy).confidence - Float(entropy)) < 1e-5)
        // low_confidence reads the untempered probability even when sampling is sharpened.
        let low = try conf(.lowConfidence, temperature: 0.01)
        #expect(low.token == 0 && abs(low.confidence - 0.5) < 1e-5)
        // The mask id is never a candidate, the bias applies, excluded ids are skipped.
        let d = TokenDistribution(model: model, parameters: SamplingParameters(algorithm: .maskgitPlus, temperature: 0))
        #expect(try d.candidate(row: row[...], position: 0, bias: [2: 5], allowsNull: true, excluded: [], rng: &rng)?.token == 2)
        #expect(try d.candidate(row: row[...], position: 0, bias: [:], allowsNull: true, excluded: [0], rng: &rng)?.token == 1)
        #expect(try d.candidate(row: row[...], position: 0, bias: [:], allowsNull: true, excluded: [0, 1, 2], rng: &rng) == nil)
    }

    @Test func nonFiniteLogitsAreAModelError() throws {
        let model = HashedLogitsModel(logitWidth: 3)
        var rng = SeededGenerator(seed: 1)
        let d = TokenDistribution(model: model, parameters: SamplingParameters())
        for row: [Float] in [[0, .nan, 1], [0, .infinity, 1]] {
            #expect(throws: SamplingError.self) {
                try d.candidate(row: row[...], position: 4, bias: [:], allowsNull: true, excluded: [], rng: &rng)
            }
        }
    }

    @Test func softmaxOfAllMinusInfinityReportsNothingLeft() {
        var v: [Float] = [-.infinity, -.infinity]
        #expect(!TokenDistribution.softmaxInPlace(&v))
    }

    @Test func drawFollowsTheProbabilities() {
        var rng = SeededGenerator(seed: 3)
        var hits = [0, 0, 0]
        for _ in 0..<20_000 { hits[TokenDistribution.draw([0.2, 0, 0.8], rng: &rng)] += 1 }
        #expect(hits[1] == 0)
        #expect(abs(Double(hits[2]) / 20_000 - 0.8) < 0.02)
    }

    @Test func seededGeneratorIsReproducibleAndUniform() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<8).map { _ in a.next() }
        #expect(xs == (0..<8).map { _ in b.next() })
        #expect(xs != (0..<8).map { _ in c.next() })
        var sum = 0.0
        for _ in 0..<10_000 {
            let u = a.nextUnit()
            #expect(u >= 0 && u < 1)
            sum += u
        }
        #expect(abs(sum / 10_000 - 0.5) < 0.02)
    }
}
