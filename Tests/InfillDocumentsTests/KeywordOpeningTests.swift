import InfillModel
import InfillModelTestKit
import Testing
@testable import InfillDocuments

/// A lowercase keyword the parent finds likelier after `We` than after `The` opens its sentence
/// after a subject; any other after an article.
@Suite struct KeywordOpeningTests {
    /// Bytes plus the openers as whole words, as a BPE tokenizer has them.
    static let tokenizer = WordTokenizer(words: ["The", "Your", "Our", "We", "Then"])

    /// A parent that, after `We`, wants to spell ` go`, and after `The`, ` door`; elsewhere it
    /// has no preference.
    static let parent: ScriptedParent = {
        let width = tokenizer.vocabularySize
        return ScriptedParent(logitWidth: width) { prefix in
            var row = [Float](repeating: 0, count: width)
            let text = tokenizer.decode(prefix, skipSpecial: false)
            for (opener, word) in [("We", " go"), ("The", " door")] {
                guard let range = text.range(of: KeywordOpening.lead + opener, options: .backwards) else { continue }
                let written = text[range.upperBound...]
                if word.hasPrefix(written), written.count < word.count {
                    row[Int(Array(word.utf8)[written.count])] = 8
                }
            }
            return row
        }
    }()

    @Test func theParentTellsAVerbFromANoun() throws {
        func judge(_ word: String) throws -> KeywordOpening {
            try KeywordOpening.judge(Self.tokenizer.encode(" " + word), tokenizer: Self.tokenizer, parent: Self.parent)
        }
        #expect(try judge("go") == .afterSubject)
        #expect(try judge("door") == .afterArticle)
    }

    @Test func aVerbKeywordOfAParagraphGetsSubjectOpeners() throws {
        let width = Self.tokenizer.vocabularySize
        let model = ScriptedModel(logitWidth: width, samplableVocabularySize: width, maskTokenID: ByteTokenizer.mask,
                                  nullTokenID: ByteTokenizer.endOfText) { _, _ in [Float](repeating: 0, count: width) }
        let loaded = LoadedModel(model: model, tokenizer: Self.tokenizer, name: "scripted", adapter: nil, parent: Self.parent)
        let filler = DocumentFiller(model: loaded, library: .empty)
        let text = "Intro.\n\n{{a | words: 5-20, keywords: [go, door, Acme]}}\n\n- {{b | words: 2-6, keywords: [go]}}\n"
        let plan = try DocumentFiller.plan(name: "t.md", contents: Array(text.utf8), library: .empty)
        let compiled = try filler.compile(plan)
        let paragraph = try #require(compiled.first).constraints
        #expect(!paragraph.keywordOpeners.isEmpty)
        // `go` (index 0) opens after a subject; `door` keeps the articles; `Acme` opens the sentence itself.
        #expect(paragraph.keywordOpenersByKeyword.keys.sorted() == [0])
        let subjects = paragraph.openers(forKeyword: 0)
        #expect(Set(subjects.map { Self.tokenizer.decode([$0]) }) == ["We", " We", "I", "Then", " Then"])
        #expect(paragraph.openers(forKeyword: 1) == paragraph.keywordOpeners)
        // A list item is one phrase: no openers of either kind.
        let item = try #require(compiled.last).constraints
        #expect(item.keywordOpeners.isEmpty && item.keywordOpenersByKeyword.isEmpty)
    }
}
