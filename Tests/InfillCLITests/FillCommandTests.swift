import Foundation
import Testing

/// The engine's tiny random-weight fixture model.
private let tinyLlamaPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path
private let tinyLlamaExists = FileManager.default.fileExists(atPath: tinyLlamaPath)

/// `infill fill` end to end on the engine's tiny fixture model (random weights: the text is
/// gibberish, but layout, keywords, determinism and exit codes are real).
@Suite(.enabled(if: tinyLlamaExists, "Tests/Fixtures/tiny-llama.gguf is missing"))
struct FillCommandTests {
    static let fixture = tinyLlamaPath

    static let template = """
        ---
        pipeline: t
        who: Ada
        ---
        # Note for {{who}}

        Line: {{a}} | end

        {{b | tokens: 4-8, keywords: [light]}}

        Literal {{{{x}}}}.

        """
    static let pipeline = """
        name: t
        output: { name: "{stem}.filled.md" }
        sampling: { steps: 8, seed: 5 }
        fields:
          a: { tokens: 6-12, keywords: [battery] }
        """

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-fill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pipelines"), withIntermediateDirectories: true)
        try Self.template.write(to: dir.appendingPathComponent("note.md"), atomically: true, encoding: .utf8)
        try Self.pipeline.write(to: dir.appendingPathComponent("pipelines/t.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func fillsKeepsLayoutAndIsDeterministic() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try runInfill(["fill", "note.md", "--model", Self.fixture], currentDirectory: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try runInfill(["fill", "note.md", "--model", Self.fixture], currentDirectory: dir)
        #expect(first.stdout == second.stdout)
        let out = first.stdout
        #expect(out.hasPrefix("# Note for Ada\n\nLine: "))
        #expect(out.hasSuffix("\n\nLiteral {{x}}.\n"))
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
        try #require(lines.count > 3)
        #expect(lines[2].hasSuffix(" | end") && lines[2].contains("battery"))

        let written = try runInfill(["fill", "note.md", "--model", Self.fixture, "-o", "out.md"], currentDirectory: dir)
        #expect(written.status == 0)
        let document = try String(contentsOf: dir.appendingPathComponent("out.md"), encoding: .utf8)
        #expect(document == out)
        let report = try Data(contentsOf: dir.appendingPathComponent("out.md.report.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: report) as? [String: Any])
        #expect(json["pipeline"] as? String == "t")
        let fields = try #require(json["fields"] as? [[String: Any]])
        #expect(fields.map { $0["name"] as? String } == ["a", "b"])
        #expect((fields[0]["keywords_found"] as? [String]) == ["battery"])
    }

    @Test func explicitPipelineFileAndErrors() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = try runInfill(["fill", "note.md", "--pipeline", "pipelines/t.yaml", "--model", Self.fixture], currentDirectory: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        try "{{a}} {{nope}}\n".write(to: dir.appendingPathComponent("bad.md"), atomically: true, encoding: .utf8)
        let bad = try runInfill(["fill", "bad.md", "--pipeline", "pipelines/t.yaml", "--model", Self.fixture], currentDirectory: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad.md:1:7: unknown placeholder 'nope'"))
        let missing = try runInfill(["fill", "absent.md", "--model", Self.fixture], currentDirectory: dir)
        #expect(missing.status == 2)
    }
}
