import Foundation
import Testing

/// The tiny complete fixture model (random weights, a 400-token BPE vocabulary).
private let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path

/// `infill generate` and `infill model forward|info` end to end on the built binary.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: tinyModel), "Tests/Fixtures/tiny-llama.gguf is missing"))
struct GenerateAndModelCommandTests {
    private func generate(_ extra: [String]) throws -> [String: Any] {
        let run = try runInfill(["generate", "--model", tinyModel, "--prompt", "The cat sat on",
                                 "--suffix", " the mat.", "--mask-tokens", "12", "--json"] + extra)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        return try #require(object)
    }

    @Test(arguments: ["origin", "maskgit_plus", "topk_margin", "entropy", "low_confidence", "random"])
    func everyAlgorithmFillsWithinItsStepBudget(algorithm: String) throws {
        let result = try generate(["--algorithm", algorithm, "--steps", "6", "--seed", "5"])
        let steps = try #require(result["steps"] as? Int)
        let passes = try #require(result["forward_passes"] as? Int)
        #expect(steps <= 6)
        #expect(passes <= steps)
        #expect(result["text"] is String)
    }

    @Test func sameSeedSameTextAndKeywordsAlwaysAppear() throws {
        for seed in 1...4 {
            let args = ["--seed", "\(seed)", "--keyword", "dog", "--temperature", "1"]
            let first = try generate(args), second = try generate(args)
            #expect(first["text"] as? String == second["text"] as? String)
            #expect((first["text"] as? String)?.contains("dog") == true)
            // One extra pass places the keyword; then at most one pass per step.
            let steps = try #require(first["steps"] as? Int), passes = try #require(first["forward_passes"] as? Int)
            #expect(passes <= steps + 1)
        }
    }

    @Test func thresholdDecodingNeverNeedsMorePassesThanFixedSteps() throws {
        let fixed = try generate(["--steps", "12", "--seed", "2"])
        let threshold = try generate(["--steps", "12", "--seed", "2", "--threshold", "0.5"])
        let fixedPasses = try #require(fixed["forward_passes"] as? Int)
        let thresholdPasses = try #require(threshold["forward_passes"] as? Int)
        #expect(thresholdPasses <= fixedPasses)
    }

    @Test func badParametersExitTwoWithOneLine() throws {
        let run = try runInfill(["generate", "--model", tinyModel, "--prompt", "a", "--mask-tokens", "4",
                                 "--algorithm", "greedy"])
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("infill: error: "))
    }

    @Test func forwardPrintsTokensAndTopK() throws {
        let run = try runInfill(["model", "forward", "--model", tinyModel, "--text", "hello world",
                                 "--attention", "causal", "--top", "3", "--json"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect((object["tokens"] as? [Int])?.isEmpty == false)
        let top = try #require(object["top"] as? [[String: Any]])
        #expect(top.count == 3)
        let logits = top.compactMap { $0["logit"] as? Double }
        #expect(logits == logits.sorted(by: >))
    }

    @Test func infoDescribesTheModel() throws {
        let run = try runInfill(["model", "info", "--model", tinyModel])
        #expect(run.status == 0)
        #expect(run.stdout.contains("llama"))
    }

    @Test func aTruncatedModelFileIsOneClearError() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: tinyModel))
        let truncated = FileManager.default.temporaryDirectory
            .appendingPathComponent("infill-truncated-\(UUID().uuidString).gguf")
        try data.prefix(data.count / 2).write(to: truncated)
        defer { try? FileManager.default.removeItem(at: truncated) }
        let run = try runInfill(["model", "forward", "--model", truncated.path, "--text", "hi", "--json"])
        #expect(run.status == 2)
        #expect(run.stderr.contains(truncated.lastPathComponent))
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!run.stderr.contains("Fatal error"))
    }
}
