import ArgumentParser
import Foundation
import InfillModel

/// `infill model export`: the default model (or a GGUF with a diffusion adapter) merged into one
/// llama.cpp `dream` GGUF, for llama.cpp's `llama-diffusion-cli` or any other Dream reader.
struct ModelExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the diffusion model merged into one llama.cpp 'dream' GGUF.",
        discussion: """
            The file loads in Infill with the same logits as the model it came from (`--model FILE`), \
            and in llama.cpp (`llama-diffusion-cli -m FILE`). Infill keeps the null and start tokens \
            under infill.* metadata keys; other readers ignore them.
            """)

    @Argument(help: "The GGUF file to write.")
    var output: String

    @Option(help: "The base model: 'default' (the fetched base model with the shipped adapter) or a GGUF file.")
    var model: String = "default"

    @Option(help: "The diffusion adapter folder (default: the shipped one; required with a GGUF --model).")
    var adapter: String?

    @Option(help: "Matrix encoding: f32, f16 or bf16 (norms stay f32).")
    var type: String = "f32"

    func run() async throws {
        guard let encoding = GGUFWriter.writableTypes.first(where: { $0.description.lowercased() == type.lowercased() })
        else {
            throw ValidationError("--type \(type): expected f32, f16 or bf16")
        }
        let base: String, folder: String
        if model == "default" {
            let files = try ModelLoader.defaultModelFiles(
                environment: ProcessInfo.processInfo.environment, executablePath: CommandLine.arguments.first, withAdapter: adapter == nil)
            guard let chosen = adapter ?? files.adapter else {
                throw ValidationError("the default model's diffusion adapter is missing (set INFILL_ADAPTER or pass --adapter)")
            }
            base = files.base
            folder = chosen
        } else {
            guard let adapter else { throw ValidationError("--adapter: a GGUF --model needs the diffusion adapter folder to merge") }
            base = model
            folder = adapter
        }
        let summary = try DreamGGUFExport.export(basePath: base, adapterFolder: folder, to: output, type: encoding)
        print("wrote \(output): dream, \(summary.config.parameterCount) parameters, \(summary.tensors) tensors, "
              + "\(summary.mergedPairs) LoRA pairs merged, \(encoding) matrices, \(MemoryBudget.gib(summary.bytes))")
    }
}
