@testable import InfillDocuments
import Testing

@Suite struct TemplateParserTests {
    func parse(_ text: String) throws -> Template {
        try TemplateParser.parse(Array(text.utf8), file: "t.md")
    }

    func error(_ text: String) -> DocumentError? {
        do {
            _ = try parse(text)
            return nil
        } catch let e as DocumentError {
            return e
        } catch {
            return nil
        }
    }

    @Test func literalsAndPlaceholdersKeepLayout() throws {
        let text = "# Title\r\n\n  {{ summary }}\tand {{name}}.\n\n\n"
        let t = try parse(text)
        #expect(t.placeholders.map(\.name) == ["summary", "name"])
        #expect(t.placeholders[0].location == SourceLocation(file: "t.md", line: 3, column: 3))
        let rendered = t.render(keepFrontMatter: true) { Array(("<" + $0.name + ">").utf8) }
        #expect(String(decoding: rendered, as: UTF8.self) == "# Title\r\n\n  <summary>\tand <name>.\n\n\n")
    }

    @Test func escapesBecomeLiteralBraces() throws {
        let t = try parse("a {{{{ b }}}} c }} {{x}}")
        #expect(t.placeholders.count == 1)
        let out = String(decoding: t.render(keepFrontMatter: true) { _ in Array("X".utf8) }, as: UTF8.self)
        #expect(out == "a {{ b }} c }} X")
    }

    @Test func frontMatterValuesAndPipeline() throws {
        let t = try parse("---\npipeline: brief\nproduct: Lumen X2\ntags: [a, b]\nempty:\n---\nBody {{product}}\n")
        #expect(t.frontMatter?.pipeline?.value == "brief")
        #expect(t.frontMatter?.values["product"]?.value == "Lumen X2")
        #expect(t.frontMatter?.values["product"]?.location == SourceLocation(file: "t.md", line: 3, column: 10))
        #expect(t.frontMatter?.structuredKeys["tags"] != nil)
        #expect(t.placeholders[0].location.line == 7)
        let block = String(decoding: t.frontMatter?.bytes ?? [], as: UTF8.self)
        #expect(block.hasSuffix("---\n"))
        let dropped = String(decoding: t.render(keepFrontMatter: false) { _ in [] }, as: UTF8.self)
        #expect(dropped == "Body \n")
    }

    @Test func inlineConstraintsParse() throws {
        let t = try parse("{{summary | tone: upbeat, keywords: [battery, light], words: 20-40}}")
        let c = try #require(t.placeholders[0].constraints)
        #expect(c.tone?.value == "upbeat")
        #expect(c.keywords.map(\.value) == ["battery", "light"])
        #expect(c.words == LengthBound(min: 20, max: 40))
        // The keyword's column in the template: '{{summary | tone: upbeat, keywords: [' is 37 chars.
        #expect(c.keywords[0].location == SourceLocation(file: "t.md", line: 1, column: 38))
        let empty = try parse("{{intro | }}")
        #expect(empty.placeholders[0].constraints != nil)
    }

    @Test func unterminatedPlaceholderPointsAtItsStart() {
        let e = error("line one\nabc {{summary\nmore text")
        #expect(e?.line == 2)
        #expect(e?.column == 5)
        #expect(e?.message.contains("unterminated") == true)
        #expect(e?.hint?.contains("{{{{") == true)
    }

    @Test func placeholderNotClosedBeforeNextOne() {
        let e = error("{{a \n {{b}}")
        #expect(e?.line == 1 && e?.column == 1)
        #expect(e?.message.contains("not closed") == true)
    }

    @Test func badNamesAndEmptyPlaceholders() {
        #expect(error("x {{ }}")?.message.contains("no name") == true)
        let bad = error("ab {{ sum mary }}")
        #expect(bad?.message.contains("invalid placeholder name") == true)
        #expect(bad?.column == 7)
        #expect(error("{{summary: words 3}}")?.hint?.contains("|") == true)
    }

    @Test func unknownInlineKeySuggestsTheClosest() {
        let e = error("Intro\n  {{summary | tone: formal, wrods: 10-20}}")
        #expect(e?.message == "unknown key 'wrods' in placeholder 'summary'")
        #expect(e?.hint == "did you mean 'words'?")
        #expect(e?.line == 2 && e?.column == 29)
    }

    @Test func badInlineValues() {
        #expect(error("{{s | words: 40-20}}")?.message.contains("greater than the maximum") == true)
        #expect(error("{{s | words: lots}}")?.column == 14)
        #expect(error("{{s | keywords: [ok], avoid: [ok]}}")?.message.contains("also to be avoided") == true)
        #expect(error("{{s | keywords: [a b c d], words: 3}}")?.message.contains("more than 'words' allows") == true)
        #expect(error("{{s | sampling: {stepz: 3}}}")?.hint == "did you mean 'steps'?")
    }

    @Test func nestedFlowMappingsDoNotCloseThePlaceholder() throws {
        let t = try parse("{{a | tokens: 6-10, sampling: {temperature: 1, steps: 4}}} tail")
        #expect(t.placeholders[0].constraints?.sampling.temperature == 1)
        #expect(t.placeholders[0].constraints?.sampling.steps == 4)
        let quoted = try parse("{{a | instruction: \"use }} and {{ freely\"}}!")
        #expect(quoted.placeholders[0].constraints?.instruction == "use }} and {{ freely")
        let out = String(decoding: quoted.render(keepFrontMatter: false) { _ in Array("X".utf8) }, as: UTF8.self)
        #expect(out == "X!")
        let apostrophe = try parse("{{a | instruction: don't stop}}.")
        #expect(apostrophe.placeholders[0].constraints?.instruction == "don't stop")
    }

    @Test func inlineYAMLSyntaxErrorsHaveAPosition() {
        let e = error("ab\n{{s | keywords: [a, b}}")
        #expect(e?.line == 2 && e?.column == 1)
        #expect(e?.message.contains("unclosed '['") == true)
        let yaml = error("ab\n{{s | keywords: [a, b], : x}}")
        #expect(yaml?.line == 2)
        #expect(yaml?.message.hasPrefix("invalid YAML") == true)
    }

    @Test func frontMatterErrors() {
        let open = error("---\ntitle: x\nno end\n")
        #expect(open?.message.contains("never closed") == true)
        #expect(open?.line == 1)
        let bad = error("---\ntitle: x\ntitle: y\n---\nbody")
        #expect(bad?.message.contains("duplicate key 'title'") == true)
        #expect(bad?.line == 3 && bad?.column == 1)
        let yaml = error("---\ntitle: [x\n---\n")
        #expect(yaml?.line != nil)
    }

    @Test func invalidUTF8IsReportedWithItsPosition() {
        var bytes = Array("ok\nab".utf8)
        bytes.append(0xFF)
        do {
            _ = try TemplateParser.parse(bytes, file: "bin.md")
            Issue.record("expected an error")
        } catch let e as DocumentError {
            #expect(e.line == 2 && e.column == 3)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func columnsCountUnicodeScalars() throws {
        let t = try parse("héllo wörld {{x}}")
        #expect(t.placeholders[0].location.column == 13)
    }
}
