import Foundation
import Testing

/// `infill check` on the shipped examples and on broken files it has not seen.
@Suite struct CheckCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func scratch(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    @Test func shippedPipelinesAndExamplesPass() throws {
        let result = try runInfill(["check", "pipelines"], currentDirectory: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ok: 4 pipeline(s), 4 template(s)"))
    }

    @Test func everyErrorHasFileLineColumnAndExitIsTwo() throws {
        let dir = try scratch([
            "a.yaml": "name: a\nfields:\n  s: {wrods: 3}\n",
            "b.yaml": "name: b\nfields:\n  s:\n    keywords: [sure thing]\n    avoid: [Sure]\n",
            "c.yaml": "name: c\nsampling: {steps: 3, steps: 4}\n",
            "t.md": "---\npipeline: b\n---\nText {{s}} and {{missing}} and {{open\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runInfill(["check", dir.path], currentDirectory: dir)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        let a = dir.appendingPathComponent("a.yaml").path
        #expect(lines.contains("\(a):3:7: unknown key 'wrods' in field 's' (hint: did you mean 'words'?)"))
        #expect(lines.contains { $0.hasPrefix(dir.appendingPathComponent("b.yaml").path + ":4:16: keyword 'sure thing'") })
        #expect(lines.contains { $0.hasPrefix(dir.appendingPathComponent("c.yaml").path + ":2:22: duplicate key 'steps'") })
        #expect(lines.contains { $0.hasPrefix(dir.appendingPathComponent("t.md").path + ":4:32: unterminated placeholder") })
        #expect(lines.last?.hasPrefix("infill: error: 4 problem(s)") == true)
    }

    @Test func templateProblemsAreListedTogether() throws {
        let dir = try scratch([
            "p.yaml": "name: p\nvariables: {client: ~}\nfields:\n  body: {words: 5-10}\n",
            "t.md": "---\npipeline: p\n---\n{{client}}\n{{bdy}}\n{{body | tone: sarcastic}}\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runInfill(["check", dir.path], currentDirectory: dir)
        #expect(result.status == 2)
        let t = dir.appendingPathComponent("t.md").path
        #expect(result.stderr.contains("\(t):4:1: variable 'client' has no value"))
        #expect(result.stderr.contains("\(t):5:1: unknown placeholder 'bdy' (hint: did you mean 'body'?"))
        #expect(result.stderr.contains("\(t):6:16: unknown tone 'sarcastic'"))
    }

    @Test func missingPathIsAnError() throws {
        let result = try runInfill(["check", "/nonexistent/folder"], currentDirectory: Self.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("/nonexistent/folder: no such file or folder"))
    }
}
