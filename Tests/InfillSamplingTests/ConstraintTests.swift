import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

@Suite struct ConstraintTests {
    @Test(arguments: everyAlgorithm)
    func pinsNeverMove(algorithm: RemaskingAlgorithm) throws {
        let model = HashedLogitsModel(salt: 11)
        var canvas = infillCanvas("pre ", 16, " post")
        canvas.pins = [4: TokenID(UInt8(ascii: "A")), 9: TokenID(UInt8(ascii: "B")), 19: TokenID(UInt8(ascii: "C"))]
        for seed in 0..<10 as Range<UInt64> {
            let p = SamplingParameters(steps: 5, algorithm: algorithm, temperature: 1, seed: seed)
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: p, recordHistory: true)[0]
            for state in try #require(r.history) {
                for (position, token) in canvas.pins { #expect(state[position] == token) }
                #expect(Array(state[0..<4]) == bytes.encode("pre "))
            }
            #expect(bytes.decode(r.gapTokens[0]).hasPrefix("A"))
        }
    }

    @Test(arguments: everyAlgorithm)
    func bannedSequencesNeverAppear(algorithm: RemaskingAlgorithm) throws {
        // The model wants to write "abcabc…" and the context ends in "a"; "bc" and "ab" are banned.
        let model = ScriptedModel.echoing("abc", confidence: 6)
        let banned = [bytes.encode("bc"), bytes.encode("ab"), bytes.encode("cca")]
        for seed in 0..<8 as Range<UInt64> {
            let canvas = infillCanvas("xa", 25, "bc", constraints: GapConstraints(bannedSequences: banned))
            let p = SamplingParameters(steps: 7, algorithm: algorithm, temperature: seed.isMultiple(of: 2) ? 0 : 0.8, seed: seed)
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: p)[0]
            // Across both edges of the gap, too: the gap starts after "a" and ends before "b".
            let around = Array(r.tokens[1..<r.tokens.count - 1])
            for seq in banned { #expect(!contains(around, seq), "\(algorithm) seed \(seed): \(bytes.decode(r.tokens))") }
        }
    }

    @Test func bannedSequencesAcrossARemovedNullTail() throws {
        // The gap wants to be "q" then nulls; the suffix starts with "z": "qz" is banned, so the
        // null tail (which would make q and z adjacent) or the q must give way.
        let model = HashedLogitsModel(salt: 5, boosts: [TokenID(UInt8(ascii: "q")): 30, null: 25])
        let banned = [bytes.encode("qz")]
        for seed in 0..<10 as Range<UInt64> {
            let canvas = infillCanvas("", 6, "z", constraints: GapConstraints(bannedSequences: banned, allowsNullTail: true))
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: SamplingParameters(steps: 6, seed: seed))[0]
            #expect(!contains(r.tokens, bytes.encode("qz")), "\(bytes.decode(r.tokens))")
        }
    }

    @Test(arguments: everyAlgorithm)
    func keywordsAlwaysAppear(algorithm: RemaskingAlgorithm) throws {
        let keywords = [bytes.encode("battery"), bytes.encode("life"), bytes.encode("ok")]
        for seed in 0..<12 as Range<UInt64> {
            let model = HashedLogitsModel(salt: seed)
            let canvas = infillCanvas("Review: ", 20, ".", constraints: GapConstraints(
                keywords: keywords, bannedSequences: [bytes.encode("ba")]))
            let p = SamplingParameters(steps: 6, algorithm: algorithm, temperature: 1, seed: seed)
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: p)[0]
            for (k, keyword) in keywords.enumerated() {
                #expect(contains(r.gapTokens[0], keyword), "seed \(seed): \(bytes.decode(r.gapTokens[0]))")
                let offset = r.keywordOffsets[0][k]
                #expect(Array(r.gapTokens[0][offset..<offset + keyword.count]) == keyword)
            }
        }
    }

    @Test func keywordPlacementFollowsTheModel() throws {
        // The echoing model predicts "…hello…" at positions 6..<11 of the canvas: the keyword goes there.
        let model = ScriptedModel.echoing("......hello.....")
        let canvas = infillCanvas("", 16, constraints: GapConstraints(keywords: [bytes.encode("hello")]))
        let r = try DiffusionSampler(model: model).sample([canvas], parameters: SamplingParameters(steps: 4))[0]
        #expect(r.keywordOffsets == [[6]])
        #expect(r.forwardPasses == 1 + 4)
    }

    @Test func keywordsArePackedWhenTheyJustFit() throws {
        // 10 positions, keywords of 5 and 4 and a pin: only a tight packing works.
        var canvas = infillCanvas("", 10, constraints: GapConstraints(keywords: [bytes.encode("abcd"), bytes.encode("efghi")]))
        canvas.pins = [4: TokenID(UInt8(ascii: "-"))]
        for salt in 0..<20 as Range<UInt64> {
            let r = try DiffusionSampler(model: HashedLogitsModel(salt: salt)).sample([canvas], parameters: SamplingParameters(steps: 1))[0]
            let text = bytes.decode(r.gapTokens[0])
            #expect(text.contains("abcd") && text.contains("efghi"), "\(text)")
        }
    }

    @Test func aKeywordThatCannotFitIsAClearError() throws {
        // The longest keyword is placed first; the shorter one could not follow it, so "abcd" has no offset.
        let canvas = infillCanvas("", 6, constraints: GapConstraints(keywords: [bytes.encode("efg"), bytes.encode("abcd")]))
        #expect(throws: SamplingError.keywordDoesNotFit(canvas: 0, gap: 0, keyword: 1)) {
            try DiffusionSampler(model: HashedLogitsModel()).sample([canvas])
        }
    }

    @Test(arguments: everyAlgorithm)
    func maskAndOutOfVocabularyIdsAreNeverSampled(algorithm: RemaskingAlgorithm) throws {
        // Width 300 but only 259 real ids; the fake ids and the mask id get huge logits.
        var boosts: [TokenID: Float] = [mask: 50]
        for id in 259..<300 { boosts[TokenID(id)] = 60 }
        let model = HashedLogitsModel(logitWidth: 300, samplableVocabularySize: 259, salt: 3, boosts: boosts)
        for seed in 0..<5 as Range<UInt64> {
            let p = SamplingParameters(steps: 4, algorithm: algorithm, temperature: 1.5, seed: seed)
            let r = try DiffusionSampler(model: model).sample([infillCanvas("a", 12)], parameters: p)[0]
            #expect(r.gapTokens[0].allSatisfy { $0 >= 0 && $0 < 259 && $0 != mask && $0 != null })
        }
    }

    @Test(arguments: everyAlgorithm)
    func nullTailsAreContiguousAndRespectMinTokens(algorithm: RemaskingAlgorithm) throws {
        let model = HashedLogitsModel(salt: 8, boosts: [null: 3])
        for seed in 0..<10 as Range<UInt64> {
            let canvas = Canvas(segments: [
                .context(bytes.encode("a")), .gap(length: 12, GapConstraints(allowsNullTail: true, minTokens: 3)),
                .context(bytes.encode("b")), .gap(length: 5, GapConstraints()),
            ], maskTokenID: mask)
            let p = SamplingParameters(steps: 6, algorithm: algorithm, temperature: 1, seed: seed)
            let r = try DiffusionSampler(model: model).sample([canvas], parameters: p)[0]
            let gap = Array(r.canvasTokens[1..<13])
            if let first = gap.firstIndex(of: null) {
                #expect(first >= 3)
                #expect(gap[first...].allSatisfy { $0 == null }, "\(gap)")
            }
            #expect(r.gapTokens[0].count >= 3)
            #expect(!r.gapTokens[0].contains(null))
            #expect(!r.gapTokens[1].contains(null))
            #expect(r.gapTokens[1].count == 5)
            #expect(r.tokens.count == 1 + r.gapTokens[0].count + 1 + 5)
        }
    }

    @Test func aModelThatLovesNullsStillFillsFixedGaps() throws {
        let model = HashedLogitsModel(salt: 8, boosts: [null: 40])
        let fixed = infillCanvas("a", 8)
        let r = try DiffusionSampler(model: model).sample([fixed], parameters: SamplingParameters(steps: 3))[0]
        #expect(!r.canvasTokens.contains(null))
        let variable = infillCanvas("a", 8, constraints: GapConstraints(allowsNullTail: true, minTokens: 2))
        let v = try DiffusionSampler(model: model).sample([variable], parameters: SamplingParameters(steps: 3))[0]
        #expect(v.gapTokens[0].count == 2)
    }

    @Test func logitBiasSteersTheGap() throws {
        let model = HashedLogitsModel(salt: 4)
        let z = TokenID(UInt8(ascii: "z"))
        let canvas = Canvas(segments: [
            .gap(length: 6, GapConstraints(logitBias: [z: 100])), .context([32]), .gap(length: 6, GapConstraints()),
        ], maskTokenID: mask)
        let r = try DiffusionSampler(model: model).sample([canvas], parameters: SamplingParameters(steps: 6))[0]
        #expect(r.gapTokens[0] == Array(repeating: z, count: 6))
        #expect(r.gapTokens[1] != Array(repeating: z, count: 6))
        // −∞ excludes a token, even one the model is sure of.
        let sure = ScriptedModel.echoing("zzzz")
        let excluded = infillCanvas("", 5, constraints: GapConstraints(logitBias: [z: -.infinity]))
        let e = try DiffusionSampler(model: sure).sample([excluded], parameters: SamplingParameters(steps: 2))[0]
        #expect(!e.gapTokens[0].contains(z))
    }
}
