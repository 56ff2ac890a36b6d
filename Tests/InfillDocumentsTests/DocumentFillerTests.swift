import Foundation
@testable import InfillDocuments
import InfillModel
import InfillModelTestKit
import Testing

@Suite struct DocumentFillerTests {
    static let pipelineYAML = """
        name: brief
        match: "*.brief.md"
        output: { name: "{stem}.out.md" }
        sampling: { steps: 12, temperature: 1.0, seed: SEED }
        variables: { company: Acme }
        fields:
          summary: { words: 4-9, keywords: [battery life, zq] }
          risks: { words: 3-8, avoid: [guarantee, risk] }
        """

    static func library(seed: Int = 7) -> PipelineLibrary {
        let yaml = pipelineYAML.replacingOccurrences(of: "SEED", with: String(seed))
        return PipelineLibrary(pipelines: [try! PipelineSpec.parse(yaml, file: "brief.yaml")])
    }

    static let template = """
        ---
        title: Launch
        ---
        # {{company}} launch

        Summary: {{summary}}

        {{risks}}

        Literal {{{{braces}}}} stay.
        """

    func fill(_ model: ScriptedModel, seed: Int = 7, template: String = template, name: String = "launch.brief.md") throws -> FilledDocument {
        let filler = DocumentFiller(model: TestModels.loaded(model), library: Self.library(seed: seed))
        return try filler.fill(name: name, contents: Array(template.utf8))
    }

    @Test func fillsEveryFieldAndKeepsTheLayout() throws {
        let filled = try fill(TestModels.prose())
        #expect(filled.outputName == "launch.out.md")
        let doc = String(decoding: filled.documentBytes, as: UTF8.self)
        let fields = filled.report.fields
        #expect(fields.map(\.name) == ["summary", "risks"])
        // Rebuild the document from the template text and the reported fills: byte for byte.
        let expected = "# Acme launch\n\nSummary: \(fields[0].text)\n\n\(fields[1].text)\n\nLiteral {{braces}} stay."
        #expect(doc == expected)
        #expect(!fields[0].text.contains("\n"))
        #expect(fields.allSatisfy { !$0.text.isEmpty })
        #expect(fields[0].canvasFields == ["summary", "risks"])
        #expect(fields[0].forwardPasses >= 2)
    }

    @Test func sameInputSameBytes() throws {
        let a = try fill(TestModels.prose())
        let b = try fill(TestModels.prose())
        #expect(a.documentBytes == b.documentBytes)
        #expect(a.report.seed == b.report.seed)
        #expect(a.report.seed == 7 ^ DocumentSeed.fnv1a64(Array(Self.template.utf8)))
        let other = try fill(TestModels.prose(), template: Self.template + " ")
        #expect(other.report.seed != a.report.seed)
    }

    @Test func keywordsAlwaysPresentAvoidedWordsNeverAndLengthsHold() throws {
        // The model would love to write "risk guarantee" everywhere; the bans must stop it.
        let model = TestModels.prose(favouring: "risk guarantee ")
        var seeds = 0
        for seed in 0..<25 {
            let filled = try fill(model, seed: seed)
            let summary = filled.report.fields[0], risks = filled.report.fields[1]
            #expect(summary.text.contains("battery life") && summary.text.contains("zq"), "seed \(seed): \(summary.text)")
            #expect(summary.keywordsFound == ["battery life", "zq"])
            let lower = risks.text.lowercased()
            #expect(!FieldSpec.containsWord("guarantee", in: lower) && !FieldSpec.containsWord("risk", in: lower), "seed \(seed): \(risks.text)")
            #expect((4...9).contains(summary.words), "seed \(seed): \(summary.words) words: \(summary.text)")
            #expect((3...8).contains(risks.words), "seed \(seed): \(risks.words) words: \(risks.text)")
            seeds += 1
        }
        #expect(seeds == 25)
    }

    @Test func reportIsValidJSONWithTheDesignFields() throws {
        let filled = try fill(TestModels.prose())
        let bytes = try #require(filled.reportBytes)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["pipeline"] as? String == "brief")
        #expect(object["model"] as? String == "scripted")
        #expect(object["total_seconds"] is Double || object["total_seconds"] is Int)
        let fields = try #require(object["fields"] as? [[String: Any]])
        for key in ["text", "tokens", "steps", "forward_passes", "seconds", "keywords_found", "tone_score", "seed"] {
            #expect(fields[0][key] != nil, "missing \(key)")
        }
    }

    @Test func frontMatterKeptWhenAsked() throws {
        let yaml = "name: k\noutput: {front_matter: keep}\nsampling: {temperature: 1}\nfields:\n  a: {words: 2-4}"
        let library = PipelineLibrary(pipelines: [try PipelineSpec.parse(yaml, file: "k.yaml")])
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose()), library: library)
        let text = "---\npipeline: k\n---\nA: {{a}}.\n"
        let filled = try filler.fill(name: "x.md", contents: Array(text.utf8))
        let doc = String(decoding: filled.documentBytes, as: UTF8.self)
        #expect(doc == "---\npipeline: k\n---\nA: \(filled.report.fields[0].text).\n")
        #expect(filled.outputName == "x.md")
    }

    @Test func tokenBoundsAreExact() throws {
        let library = PipelineLibrary(pipelines: [])
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose(nullLogit: 3)), library: library)
        for seed in 0..<5 {
            let text = "---\nseed: \(seed)\n---\n{{a | tokens: 6-10, sampling: {temperature: 1}}}\n"
            let filled = try filler.fill(name: "t.md", contents: Array(text.utf8))
            let tokens = filled.report.fields[0].tokens
            #expect((6...10).contains(tokens), "\(tokens) tokens")
        }
    }

    @Test func candidatesPickTheBestToneScore() throws {
        let yaml = """
            name: c
            sampling: { candidates: 4, temperature: 1.0 }
            tones:
              zed: { prefer: [z] }
            fields:
              a: { words: 3-6, tone: zed }
            """
        let library = PipelineLibrary(pipelines: [try PipelineSpec.parse(yaml, file: "c.yaml")])
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose()), library: library)
        let filled = try filler.fill(name: "x.md", contents: Array("---\npipeline: c\n---\n{{a}}\n".utf8))
        #expect(filled.report.fields[0].candidates == 4)
        #expect(filled.report.fields[0].toneScore != nil)
    }

    /// A byte-level model that writes prose, except that it writes an unclosed `(` wherever
    /// `writesParenthesis(tokens, position)` says so (and never a `)`).
    static func parenthesisModel(_ writesParenthesis: @escaping @Sendable ([TokenID], Int) -> Bool) -> ScriptedModel {
        let prose = TestModels.prose(nullLogit: -2)
        let width = ByteTokenizer().vocabularySize
        return ScriptedModel(logitWidth: width, maskTokenID: ByteTokenizer.mask, nullTokenID: ByteTokenizer.endOfText) { tokens, position in
            var row = (try? prose.predict([PredictionRequest(tokens: tokens, positions: [position])]))?.first?.values ?? []
            guard row.count == width else { return row }
            if writesParenthesis(tokens, position) { row[Int(UInt8(ascii: "("))] = 40 }
            row[Int(UInt8(ascii: ")"))] = -40
            return row
        }
    }

    /// A pipeline with two short fields `a` and `b` and the given extra sampling settings.
    static func twoFieldPipeline(_ sampling: String = "") throws -> PipelineSpec {
        try PipelineSpec.parse("""
            name: r
            sampling: { temperature: 1.0\(sampling) }
            fields:
              a: { words: 2-10 }
              b: { words: 2-10 }
            """, file: "r.yaml")
    }

    @Test func anUnreadableFieldIsFilledAgainBetweenTheFinishedOnes() throws {
        // While masks remain far from a position (the other field not yet written), this model
        // writes `(`, which no fill closes (not readable, yet within its length); with only the
        // field's own masks left it writes prose. So the joint canvas leaves a field unreadable,
        // and it is repaired on a canvas of its own.
        let model = Self.parenthesisModel { tokens, position in
            tokens.indices.contains { tokens[$0] == ByteTokenizer.mask && abs($0 - position) > 150 }
        }
        let library = PipelineLibrary(pipelines: [try Self.twoFieldPipeline()])
        let middle = String(repeating: "Plain template text between the two fields. ", count: 8)
        let template = "---\npipeline: r\n---\nFirst: {{a}} done.\n\n\(middle)\n\nSecond: {{b}} done.\n"
        let filled = try DocumentFiller(model: TestModels.loaded(model), library: library)
            .fill(name: "x.md", contents: Array(template.utf8))
        for field in filled.report.fields {
            #expect(!field.text.contains("("), "\(field.name): \(field.text)")
        }
        #expect(filled.report.fields.contains { $0.canvasFields == [$0.name] }, "no field was repaired on its own canvas")
        // The report accounts for every canvas: the first pass, then one repair per field it
        // left unreadable, each marked, numbered after the first pass and used.
        let repaired = filled.report.fields.filter(\.repaired)
        #expect(!repaired.isEmpty && repaired.allSatisfy { $0.canvas >= 1 && $0.canvasFields == [$0.name] })
        let canvases = filled.report.canvases
        #expect(canvases.first?.number == 0 && canvases.first?.repair == false)
        #expect(canvases.map(\.number) == Array(0..<canvases.count))
        #expect(Set(canvases.filter(\.repair).map(\.number)) == Set(repaired.map(\.canvas)))
        #expect(canvases.allSatisfy { !$0.repair || $0.used })
        #expect(canvases.map(\.forwardPasses).reduce(0, +) == filled.report.totalForwardPasses)
        // The page's card says so.
        #expect(repaired.allSatisfy { FillHTMLPage.card($0).contains("<th>repaired</th>") })
        #expect(filled.report.fields.filter { !$0.repaired }.allSatisfy { !FillHTMLPage.card($0).contains("repaired") })

        // `repair: false` keeps the first pass: one canvas, its unreadable field as it was.
        let off = try DocumentFiller(model: TestModels.loaded(model), library: library)
            .fill(name: "x.md", contents: Array(template.utf8), pipeline: try Self.twoFieldPipeline(", repair: false"))
        #expect(off.report.canvases.count == 1 && off.report.fields.allSatisfy { !$0.repaired })
        #expect(off.report.fields.contains { $0.text.contains("(") })
    }

    @Test func aFieldWithAForcedKeywordIsFilledAgainAndKeptWhereTheKeywordFitsBetter() throws {
        // Under the byte tokenizer the keyword " qz" starts with a space. Guided by a neutral
        // parent, this model writes no space in field a while anything after a is unfinished (a
        // mask or a null tail: field b still being written), and writes prose once the rest is
        // finished text, as on a's repair canvas. So the joint canvas forces the keyword in where
        // it is due, against a distribution that did not want it, and the repair writes it where
        // a space fits.
        let prose = TestModels.prose(nullLogit: -2)
        let width = ByteTokenizer().vocabularySize
        let space = Int(UInt8(ascii: " "))
        @Sendable func find(_ text: String, in tokens: [TokenID], from: Int) -> Int? {
            let marker = Array(text.utf8).map { TokenID($0) }
            guard tokens.count >= from + marker.count else { return nil }
            return (from...(tokens.count - marker.count)).first { Array(tokens[$0..<$0 + marker.count]) == marker }
        }
        let model = ScriptedModel(logitWidth: width, maskTokenID: ByteTokenizer.mask, nullTokenID: ByteTokenizer.endOfText) { tokens, position in
            var row = (try? prose.predict([PredictionRequest(tokens: tokens, positions: [position])]))?.first?.values ?? []
            guard row.count == width, let first = find("First:", in: tokens, from: 0).map({ $0 + 6 }),
                  let done = find(" done.", in: tokens, from: first), (first..<done).contains(position) else { return row }
            let unfinished = tokens[done...].contains { $0 == ByteTokenizer.mask || $0 == ByteTokenizer.endOfText }
            if unfinished { row[space] = -20 }
            return row
        }
        let parent = ScriptedParent(logitWidth: width) { _ in [Float](repeating: 0, count: width) }
        let loaded = LoadedModel(model: model, tokenizer: ByteTokenizer(), name: "scripted", adapter: nil, parent: parent)
        func pipeline(_ sampling: String) throws -> PipelineSpec {
            try PipelineSpec.parse("""
                name: r
                sampling: { temperature: 0\(sampling) }
                fields:
                  a: { words: 2-10, keywords: [qz] }
                  b: { words: 1-10 }
                """, file: "r.yaml")
        }
        let middle = String(repeating: "Plain template text between the two fields. ", count: 8)
        let template = Array("---\npipeline: r\n---\nFirst: {{a}} done.\n\n\(middle)\n\nSecond: {{b}} done.\n".utf8)
        let library = PipelineLibrary(pipelines: [try pipeline("")])
        let off = try DocumentFiller(model: loaded, library: library).fill(name: "x.md", contents: template, pipeline: try pipeline(", repair: false"))
        let forced = try #require(off.report.fields.first { $0.name == "a" })
        #expect((forced.keywordFit ?? 0) < Double(FieldOutcome.forcedKeywordFit), "\(forced.text) \(forced.keywordFit ?? 0)")
        #expect(off.report.fields.first { $0.name == "b" }?.keywordFit == nil)

        let on = try DocumentFiller(model: loaded, library: library).fill(name: "x.md", contents: template)
        let repaired = try #require(on.report.fields.first { $0.name == "a" })
        #expect(repaired.repaired && repaired.canvasFields == ["a"], "\(repaired.text)")
        #expect((repaired.keywordFit ?? -99) > (forced.keywordFit ?? 0) && repaired.text.contains("qz"), "\(repaired.text)")
        #expect(on.report.fields.first { $0.name == "b" }?.repaired == false)
    }

    @Test func aRepairReplacesAForcedKeywordOnlyWhenItReadsAndFitsBetter() {
        func outcome(readable: Bool, fit: Float) -> FieldOutcome {
            var o = FieldOutcome(text: "x", tokens: 1, words: 1, keywordsFound: [], avoidedFound: [], toneScore: nil,
                                 violations: [], score: 0, readable: readable)
            o.keywordFit = fit
            return o
        }
        let first = outcome(readable: true, fit: -6)
        #expect(outcome(readable: true, fit: -1).isBetterRepair(of: first))
        #expect(!outcome(readable: true, fit: -7).isBetterRepair(of: first))
        #expect(!outcome(readable: false, fit: 0).isBetterRepair(of: first))
        // A first fill that does not read is replaced by any repair that does.
        #expect(outcome(readable: true, fit: -9).isBetterRepair(of: outcome(readable: false, fit: -6)))
    }

    @Test func aRepairDoesNotCopyAnotherFieldsText() throws {
        // Field `a` is written while `b` is still masked and gets an unclosed `(`; this model
        // also copies: at the k-th position after a `:` it writes the letter or space found k
        // positions after another `:` on the canvas. So `a`'s repair, with `b` written after
        // "Second: ", would copy `b`; the n-grams of the other fields are banned in a repair, as
        // they are between the gaps of one canvas.
        let prose = TestModels.prose(nullLogit: -2)
        let width = ByteTokenizer().vocabularySize
        let colon = TokenID(UInt8(ascii: ":")), space = TokenID(UInt8(ascii: " "))
        let model = ScriptedModel(logitWidth: width, maskTokenID: ByteTokenizer.mask, nullTokenID: ByteTokenizer.endOfText) { tokens, position in
            var row = (try? prose.predict([PredictionRequest(tokens: tokens, positions: [position])]))?.first?.values ?? []
            guard row.count == width else { return row }
            row[Int(UInt8(ascii: ")"))] = -40
            if tokens.indices.contains(where: { tokens[$0] == ByteTokenizer.mask && abs($0 - position) > 150 }) {
                row[Int(UInt8(ascii: "("))] = 40
                return row
            }
            let anchors = (1..<tokens.count).filter { tokens[$0 - 1] == colon }
            guard let mine = anchors.last(where: { $0 <= position }) else { return row }
            for other in anchors where other != mine && other + position - mine < tokens.count {
                let t = tokens[other + position - mine]
                if t == space || (t < 128 && Character(UnicodeScalar(UInt8(t))).isLetter) { row[Int(t)] = 40; break }
            }
            return row
        }
        let library = PipelineLibrary(pipelines: [try Self.twoFieldPipeline()])
        let middle = String(repeating: "Plain template text between the two fields. ", count: 8)
        let template = "---\npipeline: r\n---\nFirst: {{a}} done.\n\n\(middle)\n\nSecond: {{b}} done.\n"
        let filled = try DocumentFiller(model: TestModels.loaded(model), library: library)
            .fill(name: "x.md", contents: Array(template.utf8))
        let fields = filled.report.fields
        let repaired = try #require(fields.first { $0.repaired }, "\(fields.map(\.text))")
        // One byte per token: the guard's token n-grams are character n-grams here.
        let n = ConstraintCompiler(tokenizer: ByteTokenizer(), model: model).repetition.ngram
        func grams(_ text: String) -> Set<String> {
            let c = Array(text)
            return c.count < n ? [] : Set((0...(c.count - n)).map { String(c[$0..<($0 + n)]) })
        }
        for other in fields where other.name != repaired.name {
            #expect(grams(repaired.text).isDisjoint(with: grams(other.text)), "\(repaired.text) | \(other.text)")
        }
    }

    @Test func aRepairThatStillDoesNotReadIsDroppedFromTheDocumentAndTheReplay() throws {
        // This model writes a `(` near every field's start (after the template's `: `; a
        // paragraph may not open with one), on any canvas: every fill is unreadable, so each
        // field is repaired and every repair dropped; the first pass's text stays.
        let colon = TokenID(UInt8(ascii: ":"))
        let model = Self.parenthesisModel { tokens, position in
            position >= 4 && (tokens[position - 2] == colon || tokens[position - 3] == colon)
        }
        let library = PipelineLibrary(pipelines: [try Self.twoFieldPipeline()])
        let template = "---\npipeline: r\n---\nFirst: {{a}} done. Second: {{b}} done.\n"
        let filled = try DocumentFiller(model: TestModels.loaded(model), library: library)
            .fill(name: "x.md", contents: Array(template.utf8), recordReplay: true)
        #expect(filled.report.fields.allSatisfy { $0.text.contains("(") && !$0.repaired && $0.canvas == 0 }, "\(filled.report.fields.map(\.text))")
        #expect(filled.report.canvases.map(\.repair) == [false, true, true])
        #expect(filled.report.canvases.map(\.used) == [true, false, false])
        let replay = try #require(filled.replay)
        #expect(Set(replay.frames.map(\.canvas)) == [0], "a dropped repair left frames")
        let last = replay.texts(at: replay.frames.count - 1)
        for (index, field) in filled.report.fields.enumerated() {
            #expect(last[index] == field.text, "the replay ends on \(field.name) as written")
        }
    }

    @Test func candidatesAreRankedByTheParentsFluency() throws {
        // Guidance off: the parent only ranks. The candidates are the same in both runs (same
        // seeds, same denoiser), so each run keeps the one its parent finds most likely.
        let yaml = """
            name: c
            sampling: { candidates: 8, temperature: 1.0, guidance: 0 }
            fields:
              a: { words: 4-9 }
            """
        let library = PipelineLibrary(pipelines: [try PipelineSpec.parse(yaml, file: "c.yaml")])
        func fill(loving letter: Character) throws -> String {
            let width = ByteTokenizer().vocabularySize
            let id = Int(letter.asciiValue ?? 0)
            let parent = ScriptedParent(logitWidth: width) { _ in
                var row = [Float](repeating: 0, count: width)
                row[id] = 6
                return row
            }
            let model = LoadedModel(model: TestModels.prose(), tokenizer: ByteTokenizer(), name: "scripted", adapter: nil, parent: parent)
            let filled = try DocumentFiller(model: model, library: library)
                .fill(name: "x.md", contents: Array("---\npipeline: c\n---\n{{a}}\n".utf8))
            return filled.report.fields[0].text
        }
        func share(_ letter: Character, in text: String) -> Double { Double(text.filter { $0 == letter }.count) / Double(max(1, text.count)) }
        let byE = try fill(loving: "e"), byT = try fill(loving: "t")
        #expect(byE != byT)
        #expect(share("e", in: byE) > share("e", in: byT), "\(byE) / \(byT)")
        #expect(share("t", in: byT) > share("t", in: byE), "\(byE) / \(byT)")
    }

    @Test func longDocumentsAreFilledInWindows() throws {
        let model = TestModels.prose(maxSequenceLength: 160)
        let filler = DocumentFiller(model: TestModels.loaded(model), library: .empty)
        let filler60 = String(repeating: "Context words here. ", count: 30)
        let text = "\(filler60)\n{{a | tokens: 8-20}}\n\(filler60)\n{{b | tokens: 8-20}}\n\(filler60)"
        let filled = try filler.fill(name: "long.md", contents: Array(text.utf8))
        #expect(filled.report.fields.map(\.canvasFields) == [["a"], ["b"]])
        let doc = String(decoding: filled.documentBytes, as: UTF8.self)
        #expect(doc == "\(filler60)\n\(filled.report.fields[0].text)\n\(filler60)\n\(filled.report.fields[1].text)\n\(filler60)")
    }

    @Test func problemsAreReportedBeforeSampling() {
        let model = TestModels.prose()
        let filler = DocumentFiller(model: TestModels.loaded(model), library: Self.library())
        #expect(throws: DocumentError.self) {
            try filler.fill(name: "x.brief.md", contents: Array("{{nope}} {{summary}}".utf8))
        }
        do {
            _ = try filler.fill(name: "x.md", contents: Array("{{a | tokens: 3, keywords: [longer keyword]}}".utf8))
            Issue.record("expected an error")
        } catch let e as DocumentError {
            #expect(e.message.contains("more than 'tokens' allows"))
            #expect(e.isPermanent)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(model.forwardPasses == 0)
    }

    @Test func repetitionGuardStopsLoopsOnDocumentWords() throws {
        // A model that wants "zz" forever; "z" is in the document, so "zzz" may never appear.
        let model = TestModels.prose(favouring: "z")
        let filler = DocumentFiller(model: TestModels.loaded(model), library: .empty)
        let filled = try filler.fill(name: "x.md", contents: Array("Buzz: {{a | tokens: 10-20}}\n".utf8))
        let text = filled.report.fields[0].text
        #expect(!text.contains("zzz"), "\(text)")
        #expect(text.filter { $0 == "z" }.count >= 3)
    }

    @Test func blankLineRunsCollapseInBlockFields() {
        #expect(FieldOutcome.collapseBlankLines("a  \n\n\n\nb\n\nc\n") == "a\n\nb\n\nc\n")
        #expect(FieldOutcome.collapseLineBreaks("a \n\n b\tc") == "a b\tc")
    }

    @Test func aTrailingFragmentSentenceIsDropped() {
        #expect(FieldOutcome.withoutFragment("It costs a lot. However, it is a great value. The L.", minWords: 3)
                == "It costs a lot. However, it is a great value.")
        #expect(FieldOutcome.withoutFragment("The price is $4.99.", minWords: 1) == nil)
        #expect(FieldOutcome.withoutFragment("It shipped. Then it sold out quickly.", minWords: 1) == nil)
        #expect(FieldOutcome.withoutFragment("Short. Ok.", minWords: 3) == nil)
    }

    @Test func inlineFieldsCannotBreakTheLine() throws {
        // A model that would love to write line breaks: in-line fields must not.
        let model = TestModels.prose(favouring: "\n\nab ")
        let filler = DocumentFiller(model: TestModels.loaded(model), library: .empty)
        let filled = try filler.fill(name: "x.md", contents: Array("Item: {{a | tokens: 5-12}} end\n".utf8))
        let doc = String(decoding: filled.documentBytes, as: UTF8.self)
        #expect(doc.split(separator: "\n").count == 1)
        #expect(doc.hasPrefix("Item: ") && doc.hasSuffix(" end\n"))
    }

    @Test func outputNamesFollowThePattern() {
        var output = OutputSpec()
        output.name = "{stem}-filled.{ext}"
        #expect(output.outputName(for: "week.status.md") == "week-filled.md")
        #expect(OutputSpec().outputName(for: "a.md") == "a.md")
    }
}
