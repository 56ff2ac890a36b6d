import Foundation
@testable import InfillDocuments
import Testing

@Suite struct PipelineSpecTests {
    static let example = """
        name: product-brief
        match: "*.brief.md"
        output: { name: "{stem}.md", report: true, front_matter: keep }
        sampling: { steps: 32, algorithm: entropy, temperature: 0.3, seed: 7, candidates: 2, top_p: 0.9, top_k: 40 }
        variables: { company: Acme, client: ~ }
        fields:
          summary:
            words: 20-40
            keywords: [battery life, lightweight]
            tone: enthusiastic
          risks:
            tone: cautious
            avoid: [guarantee]
            words: 25
            sampling: { steps: 64, block_length: 16 }
        tones:
          house-style: { prefer: [we, our, customers], avoid: [synergy], strength: 2.0 }
        """

    func error(_ yaml: String) -> DocumentError? {
        do {
            _ = try PipelineSpec.parse(yaml, file: "p.yaml")
            return nil
        } catch let e as DocumentError {
            return e
        } catch {
            return nil
        }
    }

    @Test func decodesTheDesignExample() throws {
        let spec = try PipelineSpec.parse(Self.example, file: "p.yaml")
        #expect(spec.name == "product-brief")
        #expect(spec.match.map(\.value) == ["*.brief.md"])
        #expect(spec.output.outputName(for: "launch.brief.md") == "launch.md")
        #expect(spec.output.frontMatter == .keep)
        #expect(!spec.output.html)
        #expect(try PipelineSpec.parse("output: { html: true }", file: "p.yaml").output.html)
        #expect(spec.sampling.steps == 32 && spec.sampling.seed == 7 && spec.sampling.candidates == 2)
        #expect(spec.sampling.topP == 0.9 && spec.sampling.topK == 40)
        #expect(spec.variables["company"]?.value == "Acme")
        #expect(spec.variables["client"] != nil && spec.variables["client"]?.value == nil)
        #expect(spec.fields["summary"]?.words == LengthBound(min: 20, max: 40))
        #expect(spec.fields["summary"]?.keywords.map(\.value) == ["battery life", "lightweight"])
        #expect(spec.fields["risks"]?.words == LengthBound(min: 1, max: 25))
        #expect(spec.fields["risks"]?.sampling.blockLength == 16)
        #expect(spec.tones["house-style"]?.strength == 2)
        #expect(spec.fields["summary"]?.keywords[0].location == SourceLocation(file: "p.yaml", line: 9, column: 16))
    }

    @Test func unknownKeysAreErrorsWithSuggestions() {
        let e = error("name: x\nfeilds:\n  a: {words: 3}\n")
        #expect(e?.message == "unknown key 'feilds' in a pipeline")
        #expect(e?.hint == "did you mean 'fields'?")
        #expect(e?.line == 2 && e?.column == 1)
        let nested = error("fields:\n  a:\n    keyword: [x]\n")
        #expect(nested?.hint == "did you mean 'keywords'?")
        #expect(nested?.line == 3 && nested?.column == 5)
        let far = error("zzzzzz: 1\n")
        #expect(far?.hint?.hasPrefix("expected one of") == true)
    }

    @Test func wrongTypesAndValues() throws {
        #expect(error("sampling: {steps: many}")?.message.contains("whole number") == true)
        #expect(error("sampling: {steps: 0}")?.message.contains("between 1") == true)
        #expect(error("sampling: {temperature: hot}")?.column == 25)
        #expect(error("sampling: {algorithm: entropie}")?.hint == "did you mean 'entropy'?")
        #expect(error("sampling: {guidance: 9}")?.message.contains("'guidance'") == true)
        #expect(error("sampling: {guidanse: 1}")?.hint == "did you mean 'guidance'?")
        #expect(try PipelineSpec.parse("sampling: {guidance: 0.5}", file: "p.yaml").sampling.guidance == 0.5)
        #expect(ResolvedSampling(SamplingSettings()).guidance == 1)
        #expect(error("sampling: {context_contrast: 5}")?.message.contains("'context_contrast'") == true)
        #expect(error("sampling: {context_contrst: 1}")?.hint == "did you mean 'context_contrast'?")
        #expect(try PipelineSpec.parse("sampling: {context_contrast: 0}", file: "p.yaml").sampling.contextContrast == 0)
        #expect(try PipelineSpec.parse("sampling: {repair: false}", file: "p.yaml").sampling.repair == false)
        #expect(error("sampling: {repair: 2}")?.message.contains("'repair'") == true)
        #expect(try SamplingSettings(yaml: "{context_contrast: 1}", label: "--sampling")
                    .overriding(with: SamplingSettings()).contextContrast == 1)
        #expect(try SamplingSettings(yaml: "{guidance: 0, block_length: 4}", label: "--sampling").blockLength == 4)
        #expect(error("fields: [a, b]")?.message.contains("mapping") == true)
        #expect(error("fields:\n  a:\n    keywords: {x: 1}")?.message.contains("list") == true)
        #expect(error("fields:\n  a: {words: [1, 2]}")?.message == "'words' of field 'a' must be a number or a range, found a list")
        #expect(error("output: {report: maybe}")?.message.contains("true or false") == true)
        #expect(error("output: {front_matter: hide}")?.message.contains("keep, drop") == true)
        #expect(error("output: {html: maybe}")?.message == "'html' of 'output' must be true or false, found 'maybe'")
        #expect(error("output: {html: [yes]}")?.message.contains("'html' of 'output'") == true)
        #expect(error("output: {htm: true}")?.hint == "did you mean 'html'?")
        #expect(error("output: {name: \"../x\"}")?.message.contains("plain file name") == true)
        #expect(error("output: {name: \"{base}.md\"}")?.message.contains("unknown substitution") == true)
        #expect(error("match: \"in/*.md\"")?.message.contains("file names") == true)
        #expect(error("")?.message.contains("empty") == true)
        #expect(error("- a\n- b")?.message.contains("mapping") == true)
    }

    @Test func duplicateKeysPointAtTheSecond() {
        let e = error("name: x\nsampling:\n  steps: 3\n  seed: 1\n  steps: 4\n")
        #expect(e?.message.contains("duplicate key 'steps'") == true)
        #expect(e?.line == 5 && e?.column == 3)
    }

    @Test func unsatisfiableFieldsAreRefused() {
        #expect(error("fields:\n  a: {keywords: [guarantee], avoid: [Guarantee]}")?.message.contains("also to be avoided") == true)
        let long = error("fields:\n  a: {keywords: [one two three four], words: 3}")
        #expect(long?.line == 2 && long?.column == 18)
        #expect(error("fields:\n  a: {words: 10-5}")?.message.contains("greater than the maximum") == true)
        #expect(error("fields:\n  a: {words: 10-20, tokens: 5}")?.message.contains("at least 10 words") == true)
    }

    @Test func tonesMustBeKnown() {
        let e = error("fields:\n  a: {tone: cautios}")
        #expect(e?.message == "unknown tone 'cautios'")
        #expect(e?.hint?.hasPrefix("did you mean 'cautious'?") == true)
        #expect(error("tones:\n  mine: {prefer: [x]}\nfields:\n  a: {tone: mine}") == nil)
        #expect(error("fields:\n  a: {tone: upbeat}") == nil)
        #expect(error("tones:\n  formal: {prefer: [x]}")?.message.contains("built in") == true)
        #expect(error("tones:\n  mine: {strength: 2}")?.message.contains("no words") == true)
    }

    @Test func namesMustBeValid() {
        #expect(error("fields:\n  \"bad name\": {}")?.message.contains("field name") == true)
        #expect(error("variables: {a: x}\nfields:\n  a: {}")?.message.contains("both a variable and a field") == true)
    }

    @Test func globsMatchFileNames() {
        #expect(Glob.matches(pattern: "*.brief.md", name: "launch.brief.md"))
        #expect(!Glob.matches(pattern: "*.brief.md", name: "launch.md"))
        #expect(Glob.matches(pattern: "week-??.md", name: "week-07.md"))
        #expect(Glob.matches(pattern: "[a-c]*.txt", name: "b.txt"))
        #expect(!Glob.matches(pattern: "[!a-c]*.txt", name: "b.txt"))
        #expect(Glob.matches(pattern: "*", name: ""))
    }

    @Test func libraryPicksByFrontMatterThenMostSpecificGlob() throws {
        let a = try PipelineSpec.parse("name: any\nmatch: \"*.md\"", file: "a.yaml")
        let b = try PipelineSpec.parse("name: brief\nmatch: [\"*.brief.md\"]", file: "b.yaml")
        let dup = try PipelineSpec.parse("name: brief", file: "c.yaml")
        let library = PipelineLibrary(pipelines: [a, b, dup])
        #expect(library.errors.count == 1)
        #expect(library.errors.first?.message.contains("already used") == true)
        let plain = try TemplateParser.parse(Array("x".utf8), file: "x.brief.md")
        #expect(try library.pipeline(for: plain, fileName: "x.brief.md").name == "brief")
        #expect(try library.pipeline(for: plain, fileName: "x.md").name == "any")
        #expect(try library.pipeline(for: plain, fileName: "x.txt").name == "default")
        let named = try TemplateParser.parse(Array("---\npipeline: any\n---\nx".utf8), file: "x.brief.md")
        #expect(try library.pipeline(for: named, fileName: "x.brief.md").name == "any")
        let wrong = try TemplateParser.parse(Array("---\npipeline: breif\n---\nx".utf8), file: "t.md")
        #expect(throws: DocumentError.self) { try library.pipeline(for: wrong, fileName: "t.md") }
        do {
            _ = try library.pipeline(for: wrong, fileName: "t.md")
        } catch let e as DocumentError {
            #expect(e.hint == "did you mean 'brief'?")
            #expect(e.line == 2 && e.column == 11)
        }
    }

    @Test func aTemplateNamingABrokenPipelineHearsWhyItIsMissing() throws {
        // The file's stem differs from the name it declares; the template names the pipeline.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-broken-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "name: 'mine-lostdog'\nfields:\n  plea: { tone: urgent }\n".write(toFile: dir + "/lostdog.yaml", atomically: true, encoding: .utf8)
        let library = try PipelineLibrary.load(directory: dir)
        #expect(library.errors.count == 1)
        let template = try TemplateParser.parse(Array("---\npipeline: mine-lostdog\n---\n{{plea}}".utf8), file: "t.md")
        do {
            _ = try library.pipeline(for: template, fileName: "t.md")
            Issue.record("a broken pipeline was found")
        } catch let e as DocumentError {
            #expect(e.message.contains("could not be loaded") && e.message.contains("unknown tone 'urgent'"), "\(e.message)")
            #expect(e.line == 2)
        }
        // `infill check` on the folder, with a fallback pipelines folder beside it, says the same.
        try "---\npipeline: mine-lostdog\n---\n{{plea}}\n".write(toFile: dir + "/lostdog.md", atomically: true, encoding: .utf8)
        let fallback = dir + "/fallback"
        try FileManager.default.createDirectory(atPath: fallback, withIntermediateDirectories: true)
        try "name: other\nfields:\n  x: {}\n".write(toFile: fallback + "/other.yaml", atomically: true, encoding: .utf8)
        let report = DocumentChecker.check(paths: [dir + "/lostdog.yaml", dir + "/lostdog.md"], pipelineDirectories: [fallback])
        let messages = report.errors.map(\.message)
        #expect(messages.contains { $0.contains("could not be loaded") }, "\(messages)")
        #expect(!messages.contains { $0.contains("unknown pipeline") }, "\(messages)")
        // The template checked alone, the broken pipeline only in `--pipelines DIR`: the same.
        let alone = DocumentChecker.check(paths: [dir + "/lostdog.md"], pipelineDirectories: [dir]).errors.map(\.message)
        #expect(alone.contains { $0.contains("could not be loaded") && $0.contains("unknown tone 'urgent'") }, "\(alone)")
    }
}
