import Foundation
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

/// `infill model export` end to end: the written dream GGUF is a model `generate` and `forward` run.
@Suite struct ModelExportCommandTests {
    @Test func exportWritesADreamFileThatFillsLikeTheMergedModel() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("infill-cli-export-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let export = try runInfill(["model", "export", out, "--model", fixtures + "/tiny-llama.gguf",
                                    "--adapter", fixtures + "/tiny-adapter", "--type", "bf16"])
        #expect(export.status == 0, "stderr: \(export.stderr)")
        #expect(export.stdout.contains("dream") && export.stdout.contains("10 LoRA pairs merged") && export.stdout.contains("BF16"))

        let info = try runInfill(["model", "info", "--model", out, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(info.stdout.utf8)) as? [String: Any])
        #expect(object["architecture"] as? String == "dream")
        #expect(object["logit_shift"] as? String == "true")

        let generate = try runInfill(["generate", "--model", out, "--prompt", "The cat sat on", "--mask-tokens", "6", "--json"])
        #expect(generate.status == 0, "stderr: \(generate.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(generate.stdout.utf8)) as? [String: Any])
        // Prompt + gap (the tiny adapter has no start token; the default model's is checked in DefaultModelDreamExportTests).
        let prompt = try runInfill(["model", "forward", "--model", out, "--text", "The cat sat on", "--json"])
        let tokens = try #require((try JSONSerialization.jsonObject(with: Data(prompt.stdout.utf8)) as? [String: Any])?["tokens"] as? [Int])
        #expect(result["canvas_tokens"] as? Int == tokens.count + 6)
    }

    @Test func badRequestsGetOneClearError() throws {
        let noAdapter = try runInfill(["model", "export", "/tmp/x.gguf", "--model", fixtures + "/tiny-llama.gguf"])
        #expect(noAdapter.status != 0 && noAdapter.stderr.contains("--adapter"))
        let badType = try runInfill(["model", "export", "/tmp/x.gguf", "--model", fixtures + "/tiny-llama.gguf",
                                     "--adapter", fixtures + "/tiny-adapter", "--type", "q4_0"])
        #expect(badType.status != 0 && badType.stderr.contains("f32, f16 or bf16"))
        let unwritable = try runInfill(["model", "export", "/nonexistent-dir/x.gguf", "--model", fixtures + "/tiny-llama.gguf",
                                        "--adapter", fixtures + "/tiny-adapter"])
        #expect(unwritable.status != 0 && unwritable.stderr.contains("/nonexistent-dir/x.gguf"))
        #expect(!unwritable.stderr.contains("Fatal error"))
    }

    @Test func benchAgainstLlamaCppSaysWhatIsMissing() throws {
        let missing = try runInfill(["bench", "--quick", "--model", fixtures + "/tiny-llama.gguf", "--llama-cpp", "/nonexistent/llama-diffusion-cli"])
        #expect(missing.status == 2 && missing.stderr.contains("not an executable"), "stderr: \(missing.stderr)")
        // The tiny model has no chat template, and llama-diffusion-cli always applies one.
        let noTemplate = try runInfill(["bench", "--quick", "--model", fixtures + "/tiny-llama.gguf", "--llama-cpp", "/bin/true"])
        #expect(noTemplate.status == 2 && noTemplate.stderr.contains("chat template"), "stderr: \(noTemplate.stderr)")
    }
}
