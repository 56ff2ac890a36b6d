import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

/// Closing pressure: near its length a gap finishes its sentence, then ends.
@Suite struct ClosingPressureTests {
    static let dot = TokenID(UInt8(ascii: ".")), a = TokenID(UInt8(ascii: "a"))

    /// Prefers `a`, then the null, then `.`, everywhere.
    static let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: mask, nullTokenID: null) { _, _ in
        var row = [Float](repeating: -20, count: 259)
        row[Int(a)] = 1
        row[Int(null)] = 0.5
        row[Int(dot)] = 0
        return row
    }

    @Test func theWeightRampsFromTheStartToFullStrength() {
        let c = ClosingPressure(sentenceEnds: [Self.dot], from: 4, full: 7, strength: 8)
        #expect([3, 4, 5, 6, 7, 20].map { c.weight(atOffset: $0) } == [0, 2, 4, 6, 8, 8])
    }

    @Test func aGapNearItsLengthEndsItsSentenceThenStops() throws {
        var constraints = GapConstraints(allowsNullTail: true, minTokens: 1)
        let p = SamplingParameters(blockLength: 1, temperature: 0)
        let free = try DiffusionSampler(model: Self.model).sample([infillCanvas("xy", 8, "z", constraints: constraints)], parameters: p)[0]
        #expect(bytes.decode(free.gapTokens[0], skipSpecial: true) == "aaaaaaaa")
        constraints.closing = ClosingPressure(sentenceEnds: [Self.dot], from: 2, full: 4, strength: 20)
        let closed = try DiffusionSampler(model: Self.model).sample([infillCanvas("xy", 8, "z", constraints: constraints)], parameters: p)[0]
        #expect(bytes.decode(closed.gapTokens[0], skipSpecial: true) == "aa.")
    }
}
