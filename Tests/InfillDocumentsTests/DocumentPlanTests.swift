@testable import InfillDocuments
import Testing

@Suite struct DocumentPlanTests {
    static let pipeline = try! PipelineSpec.parse("""
        name: p
        variables: { company: Acme, client: ~ }
        fields:
          summary: { words: 5-10 }
          body: { tone: formal }
        """, file: "p.yaml")

    func plan(_ text: String) throws(DocumentErrors) -> DocumentPlan {
        let template: Template
        do { template = try TemplateParser.parse(Array(text.utf8), file: "t.md") } catch {
            throw DocumentErrors([error as? DocumentError ?? DocumentError("?", file: "t.md")])
        }
        return try DocumentPlan.make(template: template, pipeline: Self.pipeline)
    }

    func errors(_ text: String) -> [DocumentError] {
        do {
            _ = try plan(text)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func variablesAndFieldsResolve() throws {
        let p = try plan("---\nclient: Beta\ncompany: Gamma\n---\n{{company}} for {{client}}: {{summary}}\n\n{{body}}\n")
        #expect(p.fields.map(\.name) == ["summary", "body"])
        #expect(p.fields[0].isInline)
        #expect(!p.fields[1].isInline)
        #expect(p.fields[1].tone?.name == "formal")
        let texts = p.pieces.compactMap { if case .text(let b) = $0 { String(decoding: b, as: UTF8.self) } else { nil } }
        #expect(texts.joined() == "Gamma for Beta: \n\n\n")
    }

    @Test func aFieldBetweenQuotationMarksIsQuoted() throws {
        #expect(try plan("\"{{summary}}\" said Ana.\n").fields[0].isQuoted)
        #expect(try plan("She said “{{summary}}” and left.\n").fields[0].isQuoted)
        #expect(try !plan("\"Quote\" {{summary}}\n").fields[0].isQuoted)
        #expect(try !plan("{{summary}}\n\n{{body}}\n").fields.contains(where: \.isQuoted))
    }

    @Test func aFieldThatOpensAHeadingLineIsAHeading() throws {
        #expect(try plan("## {{summary}}\n\n{{body}}\n").fields.map(\.isHeading) == [true, false])
        #expect(try plan("Intro.\n\n# {{summary}} for {{company}}\n").fields.map(\.isHeading) == [true])
        #expect(try plan("# Report for {{summary}}\n").fields.map(\.isHeading) == [false])
        // A title after a label is a title too, so it opens with a letter, not a date.
        #expect(try plan("# Talk abstract: {{summary}}\n").fields.map(\.isHeading) == [true])
        #expect(try plan("## Release — {{summary}}\n").fields.map(\.isHeading) == [true])
        #expect(try plan("Intro: {{summary}}\n").fields.map(\.isHeading) == [false])
        #expect(try plan("#{{summary}}\n").fields.map(\.isHeading) == [false])  // a hashtag, not a heading
        #expect(try plan("- {{summary}}\n").fields.map(\.isHeading) == [false])
    }

    @Test func everyProblemIsListedWithItsPosition() {
        let found = errors("{{client}} {{summry}}\n{{summary}} {{summary}}\n{{x | tone: loud}}")
        #expect(found.count == 4)
        #expect(found[0].message == "variable 'client' has no value" && found[0].column == 1)
        #expect(found[1].message == "unknown placeholder 'summry'" && found[1].column == 12)
        #expect(found[1].hint?.hasPrefix("did you mean 'summary'?") == true)
        #expect(found[2].message.contains("appears more than once") && found[2].line == 2 && found[2].column == 13)
        #expect(found[3].message == "unknown tone 'loud'")
    }

    @Test func inlineConstraintsOverrideThePipeline() throws {
        let p = try plan("{{summary | words: 2-3, keywords: [a]}}")
        #expect(p.fields[0].spec.words == LengthBound(min: 2, max: 3))
        #expect(p.fields[0].spec.keywords.map(\.value) == ["a"])
        #expect(errors("{{company | words: 3}}").first?.message.contains("variable but has constraints") == true)
    }
}
