import Foundation
import InfillModel
import InfillModelTestKit
@testable import InfillDocuments
import Testing

/// The readability measure of a field (``FieldQuality``: the filler's scoring and the quality benchmark's).
@Suite struct QualityTests {
    static func field(words: LengthBound? = LengthBound(min: 3, max: 30), keywords: [String] = [], inline: Bool = false) -> PlannedField {
        let here = SourceLocation(file: "t.yaml", line: 1, column: 1)
        var spec = FieldSpec(location: here)
        spec.words = words
        spec.keywords = keywords.map { Located($0, at: here) }
        return PlannedField(name: "f", spec: spec, tone: nil, sampling: ResolvedSampling(SamplingSettings()),
                            location: here, isInline: inline)
    }

    @Test func proseIsReadable() {
        let q = FieldQuality.measure("The checkout API failed after the 4.18 deploy and was rolled back.", field: Self.field())
        #expect(q.readable && q.repetition == 0 && !q.stutters)
    }

    @Test func stuttersRepeatsFillerAndCopiesAreNot() {
        #expect(FieldQuality.measure("We request Request a refund today.", field: Self.field()).stutters)
        let looped = FieldQuality.measure("the team was not the team was not the team", field: Self.field())
        #expect(looped.repetition > 0.3 && !looped.readable)
        let filler = FieldQuality.measure("1. 1 1 2 51 6 significant 1", field: Self.field())
        #expect(filler.filler > 0.5 && !filler.readable)
        let copy = FieldQuality.measure("It broke.\n\n## Impact\n\nIt broke again", field: Self.field(), following: "\n\n## Impact\n\nCustomers")
        #expect(copy.copiesTemplate && !copy.readable)
        let short = FieldQuality.measure("Fine.", field: Self.field())
        #expect(!short.lengthOK && !short.readable)
        #expect(!FieldQuality.measure("No keyword here.", field: Self.field(keywords: ["outage"])).keywordsOK)
        // A keyword counts as the word it was asked as, not inside a longer one.
        #expect(!FieldQuality.measure("Buy stationery here.", field: Self.field(keywords: ["station"])).keywordsOK)
        #expect(FieldQuality.measure("The station, then home.", field: Self.field(keywords: ["station"])).keywordsOK)
    }

    @Test func aBlockFieldThatStopsMidSentenceIsUnfinished() {
        let cut = FieldQuality.measure("The headphones are ideal for anyone who wants music without having to carry a",
                                       field: Self.field())
        #expect(cut.unfinished && !cut.readable)
        #expect(!FieldQuality.measure("It shipped on time (mostly).", field: Self.field()).unfinished)
        #expect(!FieldQuality.measure("Done:\n\n- Fix the login bug\n- Ship the beta", field: Self.field()).unfinished)
        let longItem = "- The headphones are ideal for anyone who wants to listen to music all day without having to carry a"
        #expect(FieldQuality.measure(longItem, field: Self.field()).unfinished)
        #expect(!FieldQuality.measure("| Weight | 180 g |", field: Self.field()).unfinished)
    }

    @Test func aFieldThatStopsOnAWordNoClauseEndsOnIsUnfinished() {
        let inline = Self.field(words: LengthBound(min: 2, max: 20), inline: true)
        for cut in ["Welcome to our team, we're going to be", "I'm your new team lead, and I'm really",
                    "I've been working on this project for a few.", "Bring water and the"] {
            #expect(FieldQuality.measure(cut, field: inline).unfinished, "\(cut)")
            #expect(FieldQuality.measure(cut, field: Self.field()).unfinished, "\(cut)")
        }
        // A word cut in two.
        for cut in ["The 2023 room at the 100-year-", "It will be held at a local children’.", "Ask the team'"] {
            #expect(FieldQuality.measure(cut, field: inline).unfinished, "\(cut)")
        }
        for fine in ["Set up your laptop", "It works as it should be.", "We know where it came from.",
                     "Meet the team at 10:00", "That is who we are.", "Thanks to you", "It is the students’.",
                     "We meet at 10 - 11", "Prices fell by 5 -"] {
            #expect(!FieldQuality.measure(fine, field: inline).unfinished, "\(fine)")
        }
    }

    @Test func anUnclosedQuoteOrParenthesisIsNotReadable() {
        let open = FieldQuality.measure("\"Dana Lee is a professional SEO specialist with a strong focus on content.", field: Self.field())
        #expect(open.unbalanced && !open.readable)
        #expect(FieldQuality.measure("We fixed the login (finally) today.", field: Self.field()).readable)
        #expect(FieldQuality.measure("We fixed the login (it took two days.", field: Self.field()).unbalanced)
        #expect(FieldQuality.measure("She said “it works” and left.", field: Self.field()).readable)
        #expect(FieldQuality.measure("She said “it works and left.", field: Self.field()).unbalanced)
        // Markdown marks too: an open code fence or bold mark runs on through the document.
        #expect(FieldQuality.measure("The error message is:\n```\nThe password has been changed.", field: Self.field()).unbalanced)
        #expect(FieldQuality.measure("Your Name**\nYour Address**\nMy Name**", field: Self.field()).unbalanced)
        #expect(!FieldQuality.measure("It is **fast** and `small`:\n```\nrun\n```\nDone.", field: Self.field()).unbalanced)
        // A closing parenthesis alone is a list marker, not an error.
        #expect(!FieldQuality.measure("Two steps: a) log in, b) reset the password.", field: Self.field()).unbalanced)
    }

    @Test func aHeadingInsideAFillIsNotReadable() {
        let leak = FieldQuality.measure("Please add this.\n# Volunteers wanted: riverside clean-up\nThanks.", field: Self.field())
        #expect(leak.hasHeading && !leak.readable)
        #expect(!FieldQuality.measure("We ranked #1 in the survey. #2 was close.", field: Self.field()).hasHeading)
    }

    @Test func aLineWithoutLettersIsNotReadable() {
        let empty = FieldQuality.measure("The following steps will help you upgrade your app.\n1.", field: Self.field())
        #expect(empty.letterlessLine && !empty.readable)
        #expect(FieldQuality.measure("These are the fixes:\n- \n- The login works again.", field: Self.field()).letterlessLine)
        #expect(!FieldQuality.measure("| Week | Hours |\n| 1 | 12 |", field: Self.field()).letterlessLine)
        #expect(!FieldQuality.measure("1. Back up the data.\n2. Install 2.4 and restart.", field: Self.field()).letterlessLine)
    }

    @Test func aSignOffLineInsideAFillIsNotReadable() {
        let signOff = FieldQuality.measure("Thank you for your patience.\nSincere regards,\nElena Chen", field: Self.field())
        #expect(signOff.commaLine && !signOff.readable)
        #expect(FieldQuality.measure("Hi team,\nThe build is green again.", field: Self.field()).commaLine)
        #expect(!FieldQuality.measure("First, back up the data.\nThen, restart the server.", field: Self.field()).commaLine)
    }
}

/// The constraint compiler's closing pressure (block and in-line fields alike) and
/// the openings a paragraph field may not start with.
@Suite struct ClosingPressureCompileTests {
    @Test func blockFieldsCloseFromOverHalfTheirMaximum() throws {
        let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: 259) }
        let compiler = ConstraintCompiler(tokenizer: ByteTokenizer(), model: model)
        #expect(compiler.sentenceEndTokens.contains(TokenID(UInt8(ascii: "."))))
        #expect(!compiler.sentenceEndTokens.contains(TokenID(UInt8(ascii: "a"))))
        let block = QualityTests.field(words: LengthBound(min: 2, max: 10))
        let compiled = try compiler.compile(block, toneBias: [:])
        let closing = try #require(compiled.constraints.closing)
        let maximum = Int((10 * compiler.tokensPerWord).rounded())
        #expect(closing.full == min(maximum * 9 / 10, compiled.budget.maskTokens))
        #expect(closing.from == max(compiled.budget.minTokens, maximum * 55 / 100))
        #expect(closing.strength == 6)
        for opener in ["*", "-", "#", "|", "1", "\n", "\u{E2}", "\"", "("] {
            #expect(compiled.constraints.firstTokenBans.contains(TokenID(opener.unicodeScalars.first!.value)), "\(opener)")
        }
        for opener in ["T", "a"] {
            #expect(!compiled.constraints.firstTokenBans.contains(TokenID(opener.unicodeScalars.first!.value)), "\(opener)")
        }
        #expect(ConstraintCompiler.opensProse(Array(" Él".utf8).dropFirst().map { $0 }))
        #expect(!ConstraintCompiler.opensProse([0xE2, 0x80]))
        // An in-line field (a list item, a table cell) closes the same way, so an item that runs
        // long ends its clause instead of being cut at the word maximum ("… we're going to be");
        // only its first token is free (an item may open with a digit or a quote).
        var inline = block
        inline.isInline = true
        let inlineCompiled = try compiler.compile(inline, toneBias: [:])
        #expect(inlineCompiled.constraints.closing == closing)
        #expect(inlineCompiled.constraints.firstTokenBans.isEmpty)
        // A heading field opens with a letter too, never a section number (`## 1.1.0 room.`).
        var heading = inline
        heading.isHeading = true
        #expect(try compiler.compile(heading, toneBias: [:]).constraints.firstTokenBans == compiled.constraints.firstTokenBans)
        // A heading after a line break is banned in a block field only.
        let newlineHash: [TokenID] = [TokenID(UInt8(ascii: "\n")), TokenID(UInt8(ascii: "#"))]
        #expect(compiler.headingTokens == [TokenID(UInt8(ascii: "#"))])
        // Byte tokens that would continue a word: letters, digits, UTF-8 bytes; not a space or a stop.
        #expect(compiler.wordContinuationTokens.isSuperset(of: [TokenID(UInt8(ascii: "e")), TokenID(UInt8(ascii: "7")), 0xC3]))
        #expect(compiler.wordContinuationTokens.isDisjoint(with: [TokenID(UInt8(ascii: " ")), TokenID(UInt8(ascii: "."))]))
        #expect(compiled.constraints.bannedSequences.contains(newlineHash))
        #expect(!inlineCompiled.constraints.bannedSequences.contains(newlineHash))
    }

    @Test func placeholderBracketsAreExcludedUnlessAKeywordHasThem() throws {
        let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: 259) }
        let compiler = ConstraintCompiler(tokenizer: ByteTokenizer(), model: model)
        let brackets = "[]{}".unicodeScalars.map { TokenID($0.value) }
        #expect(Set(compiler.placeholderTokens) == Set(brackets))
        for inline in [false, true] {
            let bias = try compiler.compile(QualityTests.field(inline: inline), toneBias: [:]).constraints.logitBias
            #expect(brackets.allSatisfy { (bias[$0] ?? 0) <= -1e4 }, "\(inline)")
            #expect(bias[TokenID(UInt8(ascii: "("))] == nil)
        }
        let asked = try compiler.compile(QualityTests.field(keywords: ["[beta]"]), toneBias: [:]).constraints.logitBias
        #expect(brackets.allSatisfy { asked[$0] == nil })
    }

    @Test func aQuotedFieldHoldsNoQuotationMark() throws {
        let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: 259) }
        let compiler = ConstraintCompiler(tokenizer: ByteTokenizer(), model: model)
        #expect(compiler.quoteTokens == [TokenID(UInt8(ascii: "\""))])
        #expect(ConstraintCompiler.holds(Array(" “Hi”".utf8), "“"))
        #expect(!ConstraintCompiler.holds(Array("it’s — fine".utf8), "“") && !ConstraintCompiler.holds(Array("it’s — fine".utf8), "”"))
        var quoted = QualityTests.field(inline: true)
        quoted.isQuoted = true
        let quote = TokenID(UInt8(ascii: "\""))
        #expect((try compiler.compile(quoted, toneBias: [:]).constraints.logitBias[quote] ?? 0) <= -1e4)
        #expect(try compiler.compile(QualityTests.field(inline: true), toneBias: [:]).constraints.logitBias[quote] == nil)
    }

    @Test func signOffsBlanksAndFencesStayOutOfFields() throws {
        let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: 259) }
        let tokenizer = ByteTokenizer()
        let compiler = ConstraintCompiler(tokenizer: tokenizer, model: model)
        // A byte tokenizer has no token of three backticks.
        #expect(compiler.fenceTokens.isEmpty)
        let banned = try compiler.compile(QualityTests.field(), toneBias: [:]).constraints.bannedSequences
        for phrase in ["Best regards", " Kind regards", "Your Name", "Sincerely,", "Original:"] {
            #expect(banned.contains(tokenizer.encode(phrase)), "\(phrase)")
        }
        #expect(!banned.contains(tokenizer.encode("your name")))
        // A keyword that holds one keeps it free.
        let asked = try compiler.compile(QualityTests.field(keywords: ["Best regards"]), toneBias: [:]).constraints.bannedSequences
        #expect(!asked.contains(tokenizer.encode("Best regards")) && asked.contains(tokenizer.encode("Your Name")))
    }

    @Test func aParagraphsKeywordMayOpenASentenceAfterADeterminer() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/tokenizer/smollm2/tokenizer.json").standardized
        let tokenizer = try BPETokenizer(tokenizerJSON: url)
        let model = ScriptedModel(logitWidth: 49_152, samplableVocabularySize: 49_152, maskTokenID: 16,
                                  nullTokenID: 0) { _, _ in [Float](repeating: 0, count: 49_152) }
        let compiler = ConstraintCompiler(tokenizer: tokenizer, model: model)
        let block = try compiler.compile(QualityTests.field(keywords: ["refund"]), toneBias: [:]).constraints
        #expect(Set(block.keywordOpeners.map { tokenizer.decode([$0]) }) == ["The", " The", "Your", " Your", "Our", " Our"])
        // A list item or title is one phrase: its keyword is not moved into a sentence of its own.
        let inline = try compiler.compile(QualityTests.field(keywords: ["refund"], inline: true), toneBias: [:]).constraints
        #expect(inline.keywordOpeners.isEmpty)
    }

    @Test func lowercaseKeywordsWaitForASentenceToStart() throws {
        let model = ScriptedModel(logitWidth: 259, samplableVocabularySize: 257, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: 259) }
        let compiler = ConstraintCompiler(tokenizer: ByteTokenizer(), model: model)
        let c = try compiler.compile(QualityTests.field(keywords: ["Acme", "refund", "water bath"]), toneBias: [:]).constraints
        #expect(c.midSentenceKeywords == [1, 2])
        #expect(c.sentenceBoundaries.isSuperset(of: [TokenID(UInt8(ascii: ".")), TokenID(UInt8(ascii: "\n"))]))
        #expect(!c.sentenceBoundaries.contains(TokenID(UInt8(ascii: ","))))
        let named = try compiler.compile(QualityTests.field(keywords: ["Acme"]), toneBias: [:]).constraints
        #expect(named.midSentenceKeywords.isEmpty && named.sentenceBoundaries.isEmpty)
    }
}
