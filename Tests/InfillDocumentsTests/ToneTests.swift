import InfillDocuments
import InfillModel
import Testing

@Suite struct ToneTests {
    @Test func builtInTonesScoreTheirOwnTextHigher() throws {
        let positive = try #require(ToneCatalog.builtIn("positive"))
        let negative = try #require(ToneCatalog.builtIn("negative"))
        let happy = "What a wonderful, delightful launch; customers love the excellent battery."
        let sad = "A terrible, disappointing launch; customers hate the awful broken battery."
        #expect(positive.score(happy) > 0 && positive.score(sad) < 0)
        #expect(negative.score(sad) > negative.score(happy))
        let cautious = try #require(ToneCatalog.builtIn("careful"))
        #expect(cautious.name == "cautious")
        #expect(cautious.score("Results may vary; we expect roughly two days, depending on use.")
                > cautious.score("Guaranteed perfect results, always, the best ever."))
        let formal = try #require(ToneCatalog.builtIn("formal"))
        #expect(formal.score("Furthermore, we hereby request that you ensure compliance.")
                > formal.score("hey guys, this stuff is pretty cool ok"))
        let neutral = try #require(ToneCatalog.builtIn("neutral"))
        #expect(neutral.score("The device has two ports and a screen.") > neutral.score("An amazing, horrible, fantastic disaster!"))
        for name in ToneCatalog.builtInNames { #expect(ToneCatalog.builtIn(name) != nil) }
    }

    @Test func customTonesCountPhrases() throws {
        let spec = try PipelineSpec.parse("tones:\n  house: {prefer: [we, battery life], avoid: [synergy]}", file: "p.yaml")
        let tone = ToneCatalog.custom("house", try #require(spec.tones["house"]))
        #expect(tone.score("We love battery life") == 50)
        #expect(tone.score("synergy synergy") == -100)
        #expect(tone.score("") == 0)
    }

    @Test func customTonesCanExtendABuiltIn() throws {
        let spec = try PipelineSpec.parse("tones:\n  quiet: {base: formal, strength: 0, avoid: [therefore]}", file: "p.yaml")
        let tone = ToneCatalog.custom("quiet", try #require(spec.tones["quiet"]))
        #expect(tone.weights["furthermore"] == 1 && tone.weights["therefore"] == -1)
        #expect(ToneBiasCompiler.bias(for: tone, tokenizer: WordTokenizer(words: ["furthermore"]), samplableVocabularySize: 300).isEmpty)
        #expect(throws: DocumentError.self) { try PipelineSpec.parse("tones:\n  q: {base: formul}", file: "p.yaml") }
    }

    @Test func biasFavoursPreferredAndPenalisesAvoidedTokens() throws {
        let tokenizer = WordTokenizer(words: ["we", "our", "synergy", "un"])
        let spec = try PipelineSpec.parse("tones:\n  house: {prefer: [we, our, unusual], avoid: [synergy], strength: 2}", file: "p.yaml")
        let tone = ToneCatalog.custom("house", try #require(spec.tones["house"]))
        let bias = ToneBiasCompiler.bias(for: tone, tokenizer: tokenizer, samplableVocabularySize: tokenizer.vocabularySize)
        let weID = tokenizer.encode(" we")[0], synergyID = tokenizer.encode(" synergy")[0], unID = tokenizer.encode(" un")[0]
        #expect(bias[weID] == 2 * ToneBiasCompiler.scale)
        #expect(bias[synergyID] == -2 * ToneBiasCompiler.scale)
        // "unusual" = " un" + 5 bytes: too many tokens, and " un" is a fragment: never biased.
        #expect(bias[unID] == nil)
        #expect(bias.keys.allSatisfy { $0 >= 259 })
    }
}
