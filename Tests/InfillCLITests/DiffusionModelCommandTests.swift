import Foundation
import Testing

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").path

/// `infill model info|forward` on the Dream- and LLaDA-layout fixtures, against the reference
/// logits of tools/reference/make_diffusion_fixtures.py.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: fixtures + "/diffusion-reference.json"), "diffusion fixtures are missing"))
struct DiffusionModelCommandTests {
    /// The reference's `forward` case of `model`: its tokens and the logits of its last row.
    private func reference(_ model: String) throws -> (tokens: [Int], last: [Double]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/diffusion-reference.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(object["cases"] as? [[String: Any]])
        let c = try #require(cases.first { $0["model"] as? String == model && $0["kind"] as? String == "forward" })
        let logits = try #require(c["logits"] as? [[Double]])
        return (try #require(c["tokens"] as? [Int]), try #require(logits.last))
    }

    @Test(arguments: ["tiny-dream", "tiny-llada", "tiny-dream.gguf", "tiny-llada.gguf"])
    func forwardMatchesTheReference(model: String) throws {
        // No --attention: Dream and LLaDA default to the bidirectional attention they were trained with.
        let run = try runInfill(["model", "forward", "--model", fixtures + "/" + model,
                                 "--text", "The team shipped the new release.", "--top", "5", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let expected = try reference(model)
        #expect(object["tokens"] as? [Int] == expected.tokens)
        let top = try #require(object["top"] as? [[String: Any]])
        let ids = top.compactMap { $0["id"] as? Int }
        let wanted = expected.last.indices.sorted { expected.last[$0] > expected.last[$1] }.prefix(5)
        #expect(ids == Array(wanted))
        for entry in top {
            let id = try #require(entry["id"] as? Int), logit = try #require(entry["logit"] as? Double)
            #expect(abs(logit - expected.last[id]) < 1e-3, "\(model) id \(id)")
        }
    }

    @Test func infoReportsTheDiffusionConventions() throws {
        let run = try runInfill(["model", "info", "--model", fixtures + "/tiny-llada", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["architecture"] as? String == "llada")
        #expect(object["logit_shift"] as? String == "false")
        #expect((object["mask_token"] as? String)?.hasPrefix("3 ") == true)
        #expect(object["end_token_ids"] as? [Int] == [0, 2])
        let dream = try runInfill(["model", "info", "--model", fixtures + "/tiny-dream.gguf"])
        #expect(dream.stdout.contains("logit_shift    true"), "\(dream.stdout)")
    }

    @Test func aModelThatDoesNotFitIsOneClearError() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["INFILL_MEMORY_LIMIT"] = "1000000"
        let run = try runInfill(["model", "info", "--model", fixtures + "/tiny-dream"], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("does not fit in memory") && run.stderr.contains("1.0 MiB are available"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func aShapeBenchThatDoesNotFitIsRefusedBeforeGenerating() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["INFILL_MEMORY_LIMIT"] = String(1 << 20)
        let run = try runInfill(["bench", "--shape", "dream-7b", "--storage", "bf16"], environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("--shape dream-7b: does not fit in memory"), "\(run.stderr)")
        #expect(run.stderr.contains("14.2 GiB of BF16 weights") && run.stderr.contains("1.0 MiB are available"), "\(run.stderr)")
        let unknown = try runInfill(["bench", "--shape", "gpt-5"])
        #expect(unknown.status == 2 && unknown.stderr.contains("dream-7b, llada-8b"), "\(unknown.stderr)")
    }

    @Test(arguments: ["tiny-dream", "tiny-llada.gguf"])
    func denoiseReadsThePositionThroughTheShift(model: String) throws {
        // The reference's denoise case masks positions 1, 4 and the last; --denoise at 4 must give
        // the reference's second row, read from output row 3 (Dream) or 4 (LLaDA).
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/diffusion-reference.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(object["cases"] as? [[String: Any]])
        let c = try #require(cases.first { $0["model"] as? String == model && $0["kind"] as? String == "denoise" })
        let tokens = try #require(c["tokens"] as? [Int])
        let expected = try #require((c["logits"] as? [[Double]])?[1])
        let run = try runInfill(["model", "forward", "--model", fixtures + "/" + model, "--denoise", "--position", "4",
                                 "--tokens", tokens.map(String.init).joined(separator: ","), "--top", "5", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(output["position"] as? Int == 4)
        #expect(output["row"] as? Int == (model.contains("dream") ? 3 : 4))
        let top = try #require(output["top"] as? [[String: Any]])
        let wanted = expected.indices.sorted { expected[$0] > expected[$1] }.prefix(5)
        #expect(top.compactMap { $0["id"] as? Int } == Array(wanted))
        for entry in top {
            let id = try #require(entry["id"] as? Int), logit = try #require(entry["logit"] as? Double)
            #expect(abs(logit - expected[id]) < 1e-3, "\(model) id \(id)")
        }
        let both = try runInfill(["model", "forward", "--model", fixtures + "/" + model, "--text", "a", "--tokens", "1"])
        #expect(both.status == 2 && both.stderr.contains("exactly one of --text and --tokens"))
    }
}
