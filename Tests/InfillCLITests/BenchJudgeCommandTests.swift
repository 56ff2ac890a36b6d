import Foundation
import Testing

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Whether the default model is fetched (the quality benchmark needs its parent).
private let defaultModelFetched = (try? runInfill(["model", "info"]))?.status == 0

/// `infill bench --quality --judge`: a judge that cannot start is one clear error, before any fill.
@Suite(.enabled(if: defaultModelFetched, "the default model is not fetched: run `infill model fetch`"))
struct BenchJudgeCommandTests {
    @Test func aJudgeThatCannotStartFailsBeforeTheFills() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("broken-judge-\(UUID().uuidString).sh").path
        try "#!/bin/sh\necho \"llama-judge: cannot load $1\" >&2\nexit 1\n".write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let run = try runInfill(["bench", "--quality", "--templates", "bench/quality/support-reply.md", "--seeds", "1",
                                 "--no-baseline", "--judge", script + " missing.gguf"], currentDirectory: repository)
        #expect(run.status == 2)
        #expect(run.stderr.contains("cannot load missing.gguf"), "\(run.stderr)")
        #expect(!run.stderr.contains("diffusion done"))
        let missing = try runInfill(["bench", "--quality", "--judge", "/nonexistent/llama-judge"], currentDirectory: repository)
        #expect(missing.status == 2 && missing.stderr.contains("tools/judge/build.sh"))
    }
}
