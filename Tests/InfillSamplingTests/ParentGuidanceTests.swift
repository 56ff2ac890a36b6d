import Foundation
import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

/// Parent guidance: the product of the denoiser's and the autoregressive parent's distributions
/// at the leftmost masked position, decoded left to right.
@Suite struct ParentGuidanceTests {
    static let width = 259
    static let a = TokenID(UInt8(ascii: "a")), b = TokenID(UInt8(ascii: "b"))

    static func softmax(_ v: [Float]) -> [Double] {
        let m = Double(v.max() ?? 0)
        let e = v.map { $0 == -.infinity ? 0 : exp(Double($0) - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    @Test func theProductKeepsTheDenoisersNullMassAndExcludesTheMask() {
        // Vocabulary 0..<6: 0 is null, 5 is the mask (its large logit must not count).
        let d: [Float] = [0.2, 0.4, 0.2, 0.1, 0.1].map { Float(log($0)) } + [50]
        let q: [Float] = [0.3, 0.1, 0.5, 0.05, 0.05, 1e-9].map { Float(log($0)) }
        let out = Self.softmax(ParentGuidance.combine(
            denoiser: d[...], parent: q[...], weight: 1, count: 6, maskTokenID: 5, nullTokenID: 0))
        let expected = [0.2, 0.8 * 0.04 / 0.15, 0.8 * 0.1 / 0.15, 0.8 * 0.005 / 0.15, 0.8 * 0.005 / 0.15, 0]
        for (x, y) in zip(out, expected) { #expect(abs(x - y) < 1e-5, "\(out)") }
    }

    @Test func weightZeroIsTheDenoiserAlone() {
        let d: [Float] = [1, 2, 0.5, -1, 3, 9]
        let q: [Float] = [9, -4, 7, 0, 0, 0]
        let out = Self.softmax(ParentGuidance.combine(
            denoiser: d[...], parent: q[...], weight: 0, count: 6, maskTokenID: 5, nullTokenID: 0))
        let alone = Self.softmax(Array(d.prefix(5)) + [-.infinity])
        for (x, y) in zip(out, alone) { #expect(abs(x - y) < 1e-5) }
    }

    /// A denoiser torn between `a` and `b` everywhere, surest about the gap's last position.
    static func tornModel(nullFrom: Int? = nil, gapStart: Int = 2) -> ScriptedModel {
        ScriptedModel(logitWidth: width, samplableVocabularySize: 256 + 1, maskTokenID: mask, nullTokenID: null) { _, p in
            var row = [Float](repeating: -20, count: width)
            row[Int(a)] = 0
            row[Int(b)] = 0
            if p == gapStart + 3 { row[Int(a)] = 6 }
            if let nullFrom, p >= gapStart + nullFrom { row[Int(null)] = 12 }
            return row
        }
    }

    static func parentPreferringB() -> ScriptedParent {
        ScriptedParent(logitWidth: width) { _ in
            var row = [Float](repeating: -20, count: width)
            row[Int(a)] = 0
            row[Int(b)] = 8
            return row
        }
    }

    @Test func guidedDecodingFollowsTheParentLeftToRightReusingItsCache() throws {
        let parent = Self.parentPreferringB()
        let sampler = DiffusionSampler(model: Self.tornModel(), parent: parent)
        let canvas = infillCanvas("xy", 4, "z")
        let guided = try sampler.sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        // The last position is the denoiser's surest (`a`), but guidance commits left to right, so
        // every prefix the parent saw is the canvas up to the leftmost mask, one token longer each step.
        #expect(bytes.decode(guided.gapTokens[0], skipSpecial: true) == "bbbb")
        #expect(parent.prefixes.map { bytes.decode($0, skipSpecial: true) } == ["xy", "xyb", "xybb", "xybbb"])
        #expect(parent.positionsComputed == 5)

        let alone = try DiffusionSampler(model: Self.tornModel())
            .sample([canvas], parameters: SamplingParameters(temperature: 0))[0]
        #expect(bytes.decode(alone.gapTokens[0], skipSpecial: true) == "aaaa")
    }

    @Test func parallelGapsGuideEachGapWithoutTheOthersUnfinishedText() throws {
        let parent = Self.parentPreferringB()
        let sampler = DiffusionSampler(model: Self.tornModel(), parent: parent)
        let canvas = Canvas(segments: [.context(bytes.encode("xy")), .gap(length: 4, GapConstraints()), .context(bytes.encode("z")),
                                       .gap(length: 3, GapConstraints()), .context(bytes.encode("w"))], maskTokenID: mask)
        let p = SamplingParameters(temperature: 0, guidance: 1, parallelGaps: true)
        let r = try sampler.sample([canvas], parameters: p)[0]
        #expect(r.gapTokens.map { bytes.decode($0, skipSpecial: true) } == ["bbbb", "bbb"])
        #expect(r.forwardPasses == 4)
        // The second gap's parent reads the text around it, not the first gap while it is written.
        #expect(parent.prefixes.map { bytes.decode($0, skipSpecial: true) }
                    == ["xy", "xyz", "xyb", "xyzb", "xybb", "xyzbb", "xybbb"])
        #expect(parent.positionsComputed == 10)
    }

    @Test func aParallelLaneRereadsTheOtherGapsWhenItEntersABlock() throws {
        let parent = Self.parentPreferringB()
        let sampler = DiffusionSampler(model: Self.tornModel(), parent: parent)
        let canvas = Canvas(segments: [.context(bytes.encode("xy")), .gap(length: 4, GapConstraints()), .context(bytes.encode("z")),
                                       .gap(length: 4, GapConstraints()), .context(bytes.encode("w"))], maskTokenID: mask)
        let p = SamplingParameters(blockLength: 2, temperature: 0, guidance: 1, parallelGaps: true)
        _ = try sampler.sample([canvas], parameters: p)
        #expect(parent.prefixes.map { bytes.decode($0, skipSpecial: true) }
                    == ["xy", "xyz", "xyb", "xyzb", "xybb", "xybbzbb", "xybbb", "xybbzbbb"])
    }

    @Test func overlappingTheParentsPassChangesNothing() throws {
        let canvas = infillCanvas("xy", 6, "z", constraints: GapConstraints(allowsNullTail: true), seed: 3)
        let p = SamplingParameters(temperature: 0.8, guidance: 1)
        let plain = try DiffusionSampler(model: Self.tornModel(nullFrom: 4), parent: Self.parentPreferringB()).sample([canvas], parameters: p)[0]
        let overlapped = try DiffusionSampler(model: Self.tornModel(nullFrom: 4), parent: Self.parentPreferringB(), overlapsParent: true)
            .sample([canvas], parameters: p)[0]
        #expect(plain.canvasTokens == overlapped.canvasTokens)
        #expect(overlapped.timings.parentPasses == plain.timings.parentPasses)
        #expect(overlapped.timings.parentPasses > 0)
    }

    @Test func theDenoiserDecidesWhereTheFieldEnds() throws {
        let sampler = DiffusionSampler(model: Self.tornModel(nullFrom: 2), parent: Self.parentPreferringB())
        let canvas = infillCanvas("xy", 6, "z", constraints: GapConstraints(allowsNullTail: true))
        let r = try sampler.sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "bb")
        #expect(bytes.decode(r.tokens, skipSpecial: true) == "xybbz")
    }

    @Test func contextContrastFavoursWhatTheDocumentMakesLikelyAmongPlausibleTokens() {
        // Vocabulary 0..<6: 0 null, 5 mask. In context the parent finds 1 and 2 equally likely;
        // without the document it expects 1 (the generic word). Token 4 is implausible in context
        // (below a tenth of the top) and gets no lift however unlikely it is without the document.
        let d: [Float] = [0.2, 0.2, 0.2, 0.2, 0.2].map { Float(log($0)) } + [50]
        let q: [Float] = [0.01, 0.44, 0.44, 0.1, 0.01, 1e-9].map { Float(log($0)) }
        let plain: [Float] = [0.01, 0.8, 0.1, 0.0899, 1e-7, 1e-9].map { Float(log($0)) }
        let base = Self.softmax(ParentGuidance.combine(
            denoiser: d[...], parent: q[...], weight: 1, count: 6, maskTokenID: 5, nullTokenID: 0))
        let off = Self.softmax(ParentGuidance.combine(
            denoiser: d[...], parent: q[...], weight: 1, count: 6, maskTokenID: 5, nullTokenID: 0, plain: plain[...], contrast: 0))
        for (x, y) in zip(base, off) { #expect(abs(x - y) < 1e-6) }
        let out = Self.softmax(ParentGuidance.combine(
            denoiser: d[...], parent: q[...], weight: 1, count: 6, maskTokenID: 5, nullTokenID: 0, plain: plain[...], contrast: 1))
        // p ∝ d·q·(q/plain) for tokens 1...3 (plausible), d·q for token 4; the null keeps 0.2.
        let qs = [0.44, 0.44, 0.1, 0.01].map { $0 / 0.99 }, ps = [0.8, 0.1, 0.0899].map { $0 / 0.99999 }
        var w = (0..<3).map { qs[$0] * qs[$0] / ps[$0] }
        w.append(qs[3])
        let total = w.reduce(0, +)
        let expected = [0.2] + w.map { 0.8 * $0 / total } + [0]
        for (x, y) in zip(out, expected) { #expect(abs(x - y) < 1e-4, "\(out) vs \(expected)") }
        #expect(out[2] > 4 * out[1])
        #expect(abs(out[0] - 0.2) < 1e-6)
    }

    @Test func contextContrastAsksTheParentAboutTheFieldAloneInTheSameBatch() throws {
        // With the document ("xy…") the parent slightly prefers `b`; after the field alone it
        // expects `b` strongly, so `b` is what any text would have next and `a` what this one does.
        let script: ScriptedParent.Script = { prefix in
            var row = [Float](repeating: -20, count: Self.width)
            let inContext = prefix.count >= 2 && prefix[1] == TokenID(UInt8(ascii: "y"))
            row[Int(Self.a)] = inContext ? 4 : 0
            row[Int(Self.b)] = inContext ? 4.5 : 8
            return row
        }
        let parent = ScriptedParent(logitWidth: Self.width, script: script)
        let canvas = infillCanvas("xy", 4, "z")
        let plain = try DiffusionSampler(model: Self.tornModel(), parent: parent)
            .sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        // The last position is the denoiser's own (`a`, surer than the parent's slight `b`).
        #expect(bytes.decode(plain.gapTokens[0], skipSpecial: true) == "bbba")
        let contrastParent = ScriptedParent(logitWidth: Self.width, script: script)
        let r = try DiffusionSampler(model: Self.tornModel(), parent: contrastParent)
            .sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1, contrast: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aaaa")
        // Each step: the canvas before the lead, then the canvas's first token and the field so far.
        #expect(contrastParent.prefixes.map { bytes.decode($0, skipSpecial: true) }
                    == ["xy", "x", "xya", "xa", "xyaa", "xaa", "xyaaa", "xaaa"])
        #expect(r.timings.parentPasses == 4)
        #expect(throws: SamplingError.self) { try SamplingParameters(guidance: 1, contrast: 5).validate() }
    }

    @Test func guidanceWithoutAParentIsRefused() {
        let sampler = DiffusionSampler(model: Self.tornModel())
        #expect(throws: SamplingError.self) {
            try sampler.sample([infillCanvas("xy", 3)], parameters: SamplingParameters(guidance: 1))
        }
        #expect(throws: SamplingError.self) { try SamplingParameters(guidance: -1).validate() }
    }
}

/// Keywords under guidance: written where the stream makes them likely, or where they are due.
@Suite struct StreamKeywordTests {
    static let width = 259
    static func id(_ c: Character) -> TokenID { TokenID(c.asciiValue!) }

    /// Denoiser: `a` everywhere, `c` a little less likely (a quarter of `a`'s mass at offset 2 only).
    static func model(likelyAt: Int?) -> ScriptedModel {
        ScriptedModel(logitWidth: width, samplableVocabularySize: 257, maskTokenID: mask, nullTokenID: null) { _, p in
            var row = [Float](repeating: -20, count: width)
            row[Int(id("a"))] = 2
            row[Int(id("c"))] = p == likelyAt.map { 2 + $0 } ? 1.5 : -6
            return row
        }
    }

    static let neutralParent = ScriptedParent(logitWidth: width) { _ in [Float](repeating: 0, count: width) }

    @Test func aKeywordIsWrittenWhereItsFirstTokenBecomesLikely() throws {
        let sampler = DiffusionSampler(model: Self.model(likelyAt: 2), parent: Self.neutralParent)
        let keyword = bytes.encode("cd")
        let canvas = infillCanvas("xy", 8, "z", constraints: GapConstraints(keywords: [keyword]))
        let r = try sampler.sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aacdaaaa")
        #expect(r.keywordOffsets == [[2]])
        // `c` had e^-0.5 of `a`'s probability there.
        #expect(abs((r.keywordFit.first?.first ?? 0) + 0.5) < 0.01, "\(r.keywordFit)")
    }

    @Test func aKeywordIsNotContinuedIntoALongerWord() throws {
        // The denoiser wants `a` everywhere; `a` after the keyword would make "cda", so the token
        // after it is the next likeliest (`c`), and `a` is free again after that.
        let sampler = DiffusionSampler(model: Self.model(likelyAt: 2), parent: Self.neutralParent)
        var constraints = GapConstraints(keywords: [bytes.encode("cd")])
        constraints.afterKeywordBans = [Self.id("a")]
        let r = try sampler.sample([infillCanvas("xy", 8, "z", constraints: constraints)],
                                   parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aacdcaaa")
        // Unguided, with the keyword pinned before denoising, the same rule holds.
        let pinned = try DiffusionSampler(model: Self.model(likelyAt: 2))
            .sample([infillCanvas("xy", 8, "z", constraints: constraints)], parameters: SamplingParameters(temperature: 0))[0]
        let text = bytes.decode(pinned.gapTokens[0], skipSpecial: true)
        #expect(text.contains("cd") && !text.contains("cda"))
    }

    @Test func aLowercaseKeywordDoesNotOpenASentence() throws {
        // "cd" is likely at the gap's first position, right after "." — a sentence start.
        let sampler = DiffusionSampler(model: Self.model(likelyAt: 0), parent: Self.neutralParent)
        var constraints = GapConstraints(keywords: [bytes.encode("cd")])
        let free = try sampler.sample([infillCanvas("x.", 8, "z", constraints: constraints)],
                                      parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(free.gapTokens[0], skipSpecial: true) == "cdaaaaaa")
        constraints.midSentenceKeywords = [0]
        constraints.sentenceBoundaries = [Self.id(".")]
        let r = try sampler.sample([infillCanvas("x.", 8, "z", constraints: constraints)],
                                   parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aaaaaacd")
        // After any other token the same keyword is written where it is likely.
        let mid = try sampler.sample([infillCanvas("xy", 8, "z", constraints: constraints)],
                                     parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(mid.gapTokens[0], skipSpecial: true) == "cdaaaaaa")
    }

    @Test func anUnlikelyKeywordIsWrittenWhereItIsDue() throws {
        let sampler = DiffusionSampler(model: Self.model(likelyAt: nil), parent: Self.neutralParent)
        let canvas = infillCanvas("xy", 8, "z", constraints: GapConstraints(keywords: [bytes.encode("cd"), bytes.encode("e")]))
        let r = try sampler.sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        // Three keyword tokens in an 8-token gap: due at offset 5, the longest first.
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aaaaacde")
        #expect(r.keywordOffsets == [[5, 7]])
        // Forced in: `c` at e^-8 of `a`'s probability, `e` at e^-22.
        #expect(r.keywordFit.count == 1 && r.keywordFit[0].count == 2, "\(r.keywordFit)")
        #expect(abs(r.keywordFit[0][0] + 8) < 0.01 && abs(r.keywordFit[0][1] + 22) < 0.01, "\(r.keywordFit)")
        #expect(throws: SamplingError.self) {
            try sampler.sample([infillCanvas("xy", 2, constraints: GapConstraints(keywords: [bytes.encode("cde")]))],
                               parameters: SamplingParameters(guidance: 1))
        }
    }

    @Test func aKeywordThatWouldBreakItsSentenceOpensTheNextAfterAnOpener() throws {
        // `c` never fits (e^-10 of `a`); `.` wins only under the full closing push; before a
        // `c` the denoiser prefers `a`, then `U`, then `T`.
        let model = ScriptedModel(logitWidth: Self.width, samplableVocabularySize: 257, maskTokenID: mask, nullTokenID: null) { tokens, p in
            var row = [Float](repeating: -20, count: Self.width)
            row[Int(Self.id("a"))] = 2
            row[Int(Self.id("."))] = -0.5
            row[Int(Self.id("c"))] = -8
            if p + 1 < tokens.count, tokens[p + 1] == Self.id("c") {
                row[Int(Self.id("a"))] = 5
                row[Int(Self.id("U"))] = 3
                row[Int(Self.id("T"))] = 1
            }
            return row
        }
        let sampler = DiffusionSampler(model: model, parent: Self.neutralParent)
        var constraints = GapConstraints(keywords: [bytes.encode("cd")])
        constraints.midSentenceKeywords = [0]
        constraints.sentenceBoundaries = [Self.id(".")]
        constraints.closing = ClosingPressure(sentenceEnds: [Self.id(".")], from: 8, full: 20, strength: 6)
        func fill(_ constraints: GapConstraints) throws -> SamplingResult {
            try sampler.sample([infillCanvas("xy", 24, "z", constraints: constraints)],
                               parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        }
        // Without openers the keyword goes in where it is due (offset 12), mid-sentence.
        let forced = try fill(constraints)
        #expect(bytes.decode(forced.gapTokens[0], skipSpecial: true).hasPrefix(String(repeating: "a", count: 12) + "cd"))
        #expect(forced.keywordOffsets == [[12]])
        // With them the sentence ends in the last half of the run-up (offsets 9–11), and the
        // opener is drawn seeing the keyword.
        constraints.keywordOpeners = [Self.id("T"), Self.id("U")]
        let opened = try fill(constraints)
        let text = bytes.decode(opened.gapTokens[0], skipSpecial: true)
        #expect(text.hasPrefix(String(repeating: "a", count: 9) + ".Ucd"), "\(text)")
        #expect(opened.keywordOffsets == [[11]])
        // The fit reported is the one the keyword had where it was due, so a repair can still try.
        #expect((opened.keywordFit.first?.first ?? 0) < -3, "\(opened.keywordFit)")
        // A keyword's own openers replace the gap's: `T`, though the denoiser prefers `U`.
        constraints.keywordOpenersByKeyword = [0: [Self.id("T")]]
        let own = bytes.decode(try fill(constraints).gapTokens[0], skipSpecial: true)
        #expect(own.hasPrefix(String(repeating: "a", count: 9) + ".Tcd"), "\(own)")
    }

    @Test func aGapWithAPendingKeywordDoesNotEnd() throws {
        // The denoiser wants to end right away; the keyword must come first.
        let ending = ScriptedModel(logitWidth: Self.width, samplableVocabularySize: 257, maskTokenID: mask, nullTokenID: null) { _, _ in
            var row = [Float](repeating: -20, count: Self.width)
            row[Int(null)] = 5
            row[Int(Self.id("a"))] = 0
            return row
        }
        let sampler = DiffusionSampler(model: ending, parent: Self.neutralParent)
        let canvas = infillCanvas("xy", 6, "z", constraints: GapConstraints(keywords: [bytes.encode("q")], allowsNullTail: true))
        let r = try sampler.sample([canvas], parameters: SamplingParameters(temperature: 0, guidance: 1))[0]
        #expect(bytes.decode(r.gapTokens[0], skipSpecial: true) == "aaaaaq")
    }
}
