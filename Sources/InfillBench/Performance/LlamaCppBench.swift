import Foundation
import InfillModel
import InfillSampling

/// The same generation in Infill and in llama.cpp's `llama-diffusion-cli`, on the same model file,
/// side by side in one run (`infill bench --llama-cpp PATH`; `tools/llama-cpp/build.sh` builds it).
///
/// The default model is exported as a `dream` GGUF (``DreamGGUFExport``) for llama.cpp; Infill runs
/// the same merged weights. Both get the same chat-formatted request, 64 masked tokens, 64 steps,
/// entropy-ordered unmasking and argmax; llama.cpp's canvas is its `--ubatch-size`, set to the
/// request's tokens plus the masks (Infill's holds its start token too). Infill runs three ways:
/// the full canvas every step (what llama.cpp does), blocks of 32 with the dual cache, and blocks
/// of 8 with the dual cache (what documents use). Best of two runs each.
package struct LlamaCppBench: BenchSection {
    package static let name = "llama_cpp"

    /// What the user asks for in the chat turn.
    static let request = "Write a short thank-you note to a colleague who helped with the quarterly report."
    static let maskTokens = 64

    package static func run(_ context: BenchContext) throws -> [String: Double] {
        guard let cli = context.llamaDiffusionCLI, let model = context.model else { return [:] }
        guard FileManager.default.isExecutableFile(atPath: cli) else {
            throw BenchUsageError("--llama-cpp \(cli): not an executable (tools/llama-cpp/build.sh builds llama-diffusion-cli)")
        }
        guard let template = model.loaded.chatTemplate,
              let chat = ChatTemplate.encode(template.conversationStart(user: request), tokenizer: model.loaded.tokenizer)
        else {
            throw BenchUsageError("--llama-cpp: the model has no chat template, and llama-diffusion-cli always applies one")
        }
        let (file, temporary) = try dreamFile(for: model)
        defer { if temporary { try? FileManager.default.removeItem(atPath: file) } }

        let runs = context.quick ? 1 : 2
        let ubatch = chat.count + maskTokens
        var llama = Double.infinity
        for _ in 0..<runs { llama = min(llama, try llamaSeconds(cli: cli, model: file, ubatch: ubatch, threads: context.threads)) }

        let diffusion = model.loaded.model
        let canvas = Canvas.infill(
            prefix: (diffusion.startTokenID.map { [$0] } ?? []) + chat, gapLength: maskTokens, suffix: [],
            maskTokenID: diffusion.maskTokenID)
        var result: [String: Double] = [
            "llama_seconds": llama, "canvas_tokens": Double(canvas.tokens.count), "llama_canvas_tokens": Double(ubatch),
            "steps": Double(maskTokens),
        ]
        for (key, blockLength) in [("full", nil), ("blocks32_dual", 32), ("blocks8_dual", 8)] as [(String, Int?)] {
            let parameters = SamplingParameters(
                steps: maskTokens, algorithm: .entropy, blockLength: blockLength, temperature: 0,
                cache: blockLength == nil ? .none : .dual)
            var best = Double.infinity
            for _ in 0..<runs {
                guard let sampled = try DiffusionSampler(model: diffusion).sample([canvas], parameters: parameters).first else { continue }
                best = min(best, sampled.seconds)
            }
            result["infill_\(key)_seconds"] = best
            result["infill_\(key)_speedup"] = llama / best
        }
        return result
    }

    /// The model as a `dream` GGUF llama.cpp reads: the default model exported to a temporary
    /// file, or a `dream`/`llada` GGUF as it is.
    private static func dreamFile(for model: ModelLoader.Result) throws -> (path: String, temporary: Bool) {
        let d = model.description
        if let adapter = d.adapterFolder, d.source.hasSuffix(".gguf") {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("infill-bench-\(UUID().uuidString).gguf").path
            try DreamGGUFExport.export(basePath: d.source, adapterFolder: adapter, to: path)
            return (path, true)
        }
        guard ["dream", "llada"].contains(d.config.architecture), d.source.hasSuffix(".gguf") else {
            throw BenchUsageError("--llama-cpp needs --model default (exported for it) or a dream or llada GGUF, not \(d.source)")
        }
        return (d.source, false)
    }

    /// One `llama-diffusion-cli` run: its own "total time" line, in seconds.
    private static func llamaSeconds(cli: String, model: String, ubatch: Int, threads: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: cli)
        process.arguments = [
            "-m", model, "-p", request, "-ub", "\(ubatch)", "-b", "\(ubatch)", "-c", "\(ubatch)",
            "--diffusion-steps", "\(maskTokens)", "--diffusion-algorithm", "1", "--diffusion-eps", "0.001", "--temp", "0",
            "-t", "\(threads)", "-tb", "\(threads)",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
              let line = text.split(separator: "\n").first(where: { $0.contains("total time:") }),
              let range = line.range(of: "total time: "),
              let milliseconds = Double(line[range.upperBound...].prefix { $0.isNumber || $0 == "." })
        else {
            throw BenchUsageError("llama-diffusion-cli failed (exit \(process.terminationStatus)): \(text.suffix(300))")
        }
        return milliseconds / 1000
    }
}
