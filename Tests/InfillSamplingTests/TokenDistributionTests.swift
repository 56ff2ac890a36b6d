import InfillModel
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
