import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

/// The sampler's rules against repeated words, repeated n-grams and filler.
@Suite struct RepetitionGuardTests {
    /// A small BPE-like vocabulary: words carry their leading space, digits are single tokens.
    static let vocabulary = [" the", " The", ".", " cat", "1", " ", "\n", " sat", ",", "2", "The", " on", " mat",
                             " North", "wind", "west", " South", " New", " and", " or", " black", "berries", "-", ":", "$", " A", "3", "4", "5"]
    static let rules = RepetitionGuard(vocabularySize: vocabulary.count, bytes: { Array(vocabulary[Int($0)].utf8) })
    static func id(_ s: String) -> TokenID { TokenID(vocabulary.firstIndex(of: s)!) }

    func rejects(_ token: String, after left: [String], before right: [String] = [], gap: [String?]? = nil) -> Bool {
        let l = left.reversed().map(Self.id), r = right.map(Self.id)
        let tokens = gap ?? (left.map(Optional.some) + [nil] + right.map(Optional.some))
        let offset = gap.map { $0.firstIndex(where: { $0 == nil }) ?? 0 } ?? left.count
        return Self.rules.rejects(Self.id(token), left: l, right: r, gapTokens: tokens.map { $0.map(Self.id) }, offset: offset)
    }

    @Test func aWordNeverFollowsItselfInAnyCasing() {
        #expect(rejects(" the", after: [" The"]))
        #expect(rejects(" The", after: ["The"]))
        #expect(rejects(" the", after: [" cat"], before: [" the"]))       // the word after it is the same
        #expect(rejects(" the", after: [" cat"], before: [" cat"]) == false)
        #expect(rejects(" cat", after: [" the"]) == false)
        #expect(rejects(" the", after: [" sat"], before: [" The"]))
    }

    @Test func aWordOfSeveralTokensNeverFollowsItself() {
        #expect(rejects("wind", after: [" New", " North", "wind", " North"]))
        #expect(rejects("west", after: [" New", " North", "wind", " North"]) == false)
        #expect(rejects("wind", after: [" South", "wind", " North"]) == false)
        #expect(rejects("wind", after: [" North"]) == false)
    }

    @Test func aWordNeverStandsOnBothSidesOfAConjunction() {
        #expect(rejects(" cat", after: [" the", " cat", " and"]))                      // the second word
        #expect(rejects(" cat", after: [" the"], before: [" or", " cat"]))              // the first word
        #expect(rejects(" and", after: [" the", " cat"], before: [" cat", "."]))       // the conjunction between them
        #expect(rejects(" mat", after: [" the", " cat", " and"]) == false)
        #expect(rejects(" cat", after: [" the", " cat", " on"]) == false)               // not a conjunction
        // A different, longer word on one side is not a repeat.
        #expect(rejects(" black", after: [" the", " black", " and"], before: ["berries"]) == false)
        #expect(rejects(" and", after: [" the", " black"], before: [" black", "berries"]) == false)
        #expect(rejects(" black", after: [" New", " black", "berries", " and"]) == false)
    }

    @Test func punctuationDigitsAndSpacesAreNotFiller() {
        #expect(rejects(".", after: [" cat", "."]))
        #expect(rejects(",", after: [" cat", "."]) == false)        // two different marks are fine
        #expect(rejects(".", after: [".", ","]))                      // three marks in a row are not
        #expect(rejects("1", after: ["2", "1", "2", "1"]))            // a fifth digit in a row
        #expect(rejects("1", after: ["2", "1", "2"]) == false)        // years and prices keep four
        #expect(rejects("1", after: ["1", " "]))                      // "1 1"
        #expect(rejects(" ", after: [" cat", " "]))
        #expect(rejects("\n", after: [" cat"]) == false)
    }

    @Test func aWordWithoutLettersHoldsAtMostThreeSeparators() {
        // Dates, prices and times keep their separators.
        #expect(rejects("2", after: [" on", "2", "1", "-", "1", "2", "-"]) == false)   // 21-12-2
        #expect(rejects("1", after: [" on", "$", "1", ",", "2", ".", "2"]) == false)   // $1,2.21
        #expect(rejects("3", after: [" on", "1", ".", "2", "."], before: [".", "4"]) == false)
        // A fourth separator makes number salad, on either side of the position or across it.
        #expect(rejects(".", after: [" on", "1", ".", "2", ".", "3", ".", "4"]))
        #expect(rejects("3", after: [" on", "1", ".", "2", "."], before: [".", "4", ".", "5"]))
        #expect(rejects("4", after: [" A", ".", "1", ".", "2", ".", "3", "."]))       // after a letter too
        // A space starts a new word.
        #expect(rejects("1", after: [" on", "1", ".", "2", ".", "3", ".", " "]) == false)
    }

    @Test func aTrigramNeverRepeatsInsideAGap() {
        let gap: [String?] = [" the", " cat", " sat", " on", " the", " cat", nil]
        #expect(rejects(" sat", after: [" on", " the", " cat"], gap: gap))
        #expect(rejects(".", after: [" on", " the", " cat"], gap: gap) == false)
    }

    @Test func theSamplerTakesTheNextBestTokenInsteadOfARepeat() throws {
        // A model that wants "aaaa…" (byte tokens): with the guard, no three equal marks in a row.
        let model = ScriptedModel.echoing("!", confidence: 9)
        let guardRules = RepetitionGuard(vocabularySize: ByteTokenizer().vocabularySize, bytes: { bytes.bytes(of: $0) })
        let canvas = infillCanvas("Hello", 12, "", constraints: GapConstraints(repetition: guardRules))
        let r = try DiffusionSampler(model: model).sample([canvas], parameters: SamplingParameters(temperature: 0))[0]
        let text = bytes.decode(r.gapTokens[0])
        #expect(!text.contains("!!"), "\(text)")
    }

    @Test func anEndTokenEndsTheGapWithANullTailOnceAllowed() throws {
        // The model always wants "\n"; "\n" ends the gap, which may end after 3 tokens.
        let newline = TokenID(UInt8(ascii: "\n"))
        let model = HashedLogitsModel(salt: 3, boosts: [newline: 40])
        let canvas = infillCanvas("Note:", 10, "", constraints: GapConstraints(
            allowsNullTail: true, minTokens: 3, endTokens: [newline]))
        for seed in 0..<5 as Range<UInt64> {
            let p = SamplingParameters(blockLength: 4, temperature: 0.5, seed: seed)
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: p)[0]
            #expect(r.gapTokens[0].count == 3, "\(bytes.decode(r.gapTokens[0]))")
            #expect(!r.gapTokens[0].contains(newline))
        }
    }

    @Test func theThresholdComparesTheUntemperedProbability() throws {
        // Untempered p(x0) ≈ e²/(e² + 259) ≈ 0.03; at temperature 0.05 it tempers to ≈ 1.
        let model = ScriptedModel.echoing("ab", confidence: 2)
        let canvas = infillCanvas("x", 8, "")
        let p = SamplingParameters(threshold: 0.9, temperature: 0.05)
        let r = try DiffusionSampler(model: model).sample([canvas], parameters: p)[0]
        #expect(r.forwardPasses == 8)
    }
}
