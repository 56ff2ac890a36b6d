import ArgumentParser
import Foundation
import InfillBench
import InfillDocuments
import InfillModel

/// `infill bench`: the performance figures of README.md ("Performance"), measured in one run on the loaded model.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm peak, forward speed, GFLOP/s and peak memory on the loaded model.")

    /// The sections, run in order (later sections may read earlier results).
    /// The llama.cpp comparison runs first, before OpenBLAS's threads have been woken by the
    /// sgemm sections: a child process on a busy machine is what llama.cpp measures worst on.
    nonisolated(unsafe) static var sections: [any BenchSection.Type] = [
        LlamaCppBench.self, SgemmPeakBench.self, KernelBench.self, ForwardBench.self, SamplerBench.self, BatchingBench.self,
    ]

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Fewer repetitions.")
    var quick = false

    @Option(help: ArgumentHelp(
        "Time random weights of a published shape instead of --model: \(SyntheticModel.shapes.keys.sorted().joined(separator: ", ")).",
        discussion: "The weights are generated at bench time in --storage and held as the engine holds that model's file; sgemm peak, forward at canvas 256 and peak memory are measured."))
    var shape: String?

    @Option(help: "With --shape: storage of the random matrices (\(SyntheticModel.types.map(\.description).joined(separator: ", "))).")
    var storage: String = "BF16"

    @Option(help: "With --shape: only this many layers (the shape's own count by default), to fit a smaller machine.")
    var layers: Int?

    @Option(name: .customLong("llama-cpp"), help: ArgumentHelp(
        "Also run the same generation through llama.cpp's llama-diffusion-cli at PATH, side by side (section llama_cpp).",
        discussion: "tools/llama-cpp/build.sh builds it from the llama-cpp-python sdist; the default model is exported as a dream GGUF for it.",
        valueName: "path"))
    var llamaCpp: String?

    @Flag(help: "Run the document-quality benchmark instead (readable fields, repetition, fluency vs the AR parent).")
    var quality = false

    @Option(name: .customLong("templates"), help: "With --quality: template files or folders (default: pipelines/examples and bench/quality).")
    var qualityTemplates: [String] = []

    @Option(name: .customLong("pipelines"), help: "With --quality: pipeline folders (default: pipelines and bench/quality).")
    var qualityPipelines: [String] = []

    @Option(help: "With --quality: seeds per template.")
    var seeds: Int = 2

    @Flag(name: .customLong("no-baseline"), help: "With --quality: skip the AR parent's fills.")
    var noBaseline = false

    @Flag(name: .customLong("show-text"), help: "With --quality: print every field's text.")
    var showText = false

    @Option(help: "With --quality: KV cache for every pipeline (none, prefix, dual), to compare speed at equal settings.")
    var cache: String?

    @Option(help: ArgumentHelp(
        "With --quality: sampler settings for every pipeline, as a YAML mapping.",
        discussion: "For example --sampling '{guidance: 0, block_length: 4}'; the keys are those of a pipeline's 'sampling:'.",
        valueName: "yaml"))
    var sampling: String?

    @Option(help: ArgumentHelp(
        "With --quality: human-written fills of the templates (YAML: template → field → text), judged as the row 'human'.",
        valueName: "file"))
    var references: String?

    @Option(help: ArgumentHelp(
        "With --quality: an independent fluency judge's command, scoring every field (columns judge, stretch, ≥human, gain).",
        discussion: "tools/judge/build.sh builds one (llama.cpp with Gemma 3 270M) and prints its command: --judge \"$(tools/judge/build.sh)\".",
        valueName: "command"))
    var judge: String?

    @Flag(name: .customLong("references-only"), help: "With --quality: judge only the human references (and the AR baseline unless --no-baseline).")
    var referencesOnly = false

    func run() async throws {
        if let shape {
            try runShape(shape)
            return
        }
        let model = try modelOptions.loadDetailed()
        if quality {
            try requireToneLexicons()
            var bench = QualityBench(
                templates: qualityTemplates.isEmpty ? ["pipelines/examples", "bench/quality"] : qualityTemplates,
                pipelines: qualityPipelines.isEmpty ? ["pipelines", "bench/quality"] : qualityPipelines,
                seeds: seeds, baseline: !noBaseline, json: json, showText: showText, cache: cache,
                sampling: try sampling.map { try SamplingSettings(yaml: $0, label: "--sampling") } ?? SamplingSettings(),
                references: references ?? (qualityTemplates.isEmpty && FileManager.default.fileExists(atPath: "bench/quality/references.yaml")
                    ? "bench/quality/references.yaml" : nil),
                referencesOnly: referencesOnly
            )
            bench.judge = judge
            do {
                try bench.run(model: model)
            } catch let error as BenchUsageError {
                throw CLIError.usage(error.description)
            }
            return
        }
        var context = BenchContext(model: model, threads: BLASThreads.current, quick: quick)
        context.llamaDiffusionCLI = llamaCpp
        do {
            try report(name: model.description.name, extra: ["adapter": model.description.adapter?.name ?? NSNull()],
                       context: context, sections: Self.sections)
        } catch let error as BenchUsageError {
            throw CLIError.usage(error.description)
        }
    }

    /// `--shape`: random weights of a published shape, checked against the memory available first.
    private func runShape(_ name: String) throws {
        guard var config = SyntheticModel.shapes[name] else {
            throw CLIError.usage("--shape must be one of \(SyntheticModel.shapes.keys.sorted().joined(separator: ", ")), not '\(name)'")
        }
        guard let type = SyntheticModel.types.first(where: { $0.description == storage.uppercased() }) else {
            throw CLIError.usage("--storage must be one of \(SyntheticModel.types.map(\.description).joined(separator: ", ")), not '\(storage)'")
        }
        if let layers {
            guard layers >= 1 else { throw CLIError.usage("--layers must be at least 1") }
            config.layerCount = layers
        }
        if let threads = modelOptions.threads, threads < 1 { throw CLIError.usage("--threads must be at least 1") }
        BLASThreads.set(modelOptions.threads)
        let bytes = SyntheticModel.weightBytes(config: config, type: type)
        do {
            try MemoryBudget.check(
                estimated: MemoryBudget.estimate(weightBytes: bytes, config: config), available: MemoryBudget.availableBytes(),
                source: "--shape \(name)",
                detail: "\(MemoryBudget.gib(bytes)) of \(type) weights for \(config.parameterCount) parameters in \(config.layerCount) layers")
        } catch let error as ModelFileError {
            throw CLIError.usage(error.description + " (--layers N runs fewer layers)")
        }
        let started = ContinuousClock.now
        let transformer = try SyntheticModel.transformer(config: config, type: type)
        let generation = (ContinuousClock.now - started) / .seconds(1)
        var context = BenchContext(transformer: transformer, vocabulary: config.vocabularySize, threads: BLASThreads.current, quick: quick)
        context.canvases = [256]
        try report(name: name, extra: ["storage": type.description, "layers": config.layerCount,
                                       "parameters": config.parameterCount, "weight_gib": Double(bytes) / Double(1 << 30),
                                       "generation_seconds": generation],
                   context: context, sections: [SgemmPeakBench.self, ForwardBench.self])
    }

    /// Runs `sections` in order and prints their figures with peak memory.
    private func report(name: String, extra: [String: Any], context start: BenchContext, sections: [any BenchSection.Type]) throws {
        var context = start
        var ordered: [(String, [String: Double])] = []
        for section in sections {
            let result = try section.run(context)
            context.results[section.name] = result
            // A section with nothing to measure here (no tokenizer, no llama.cpp) is left out.
            if !result.isEmpty { ordered.append((section.name, result)) }
        }
        let memory = ["peak_rss_mib": BenchTiming.peakResidentMiB()]
        ordered.append(("memory", memory))
        if json {
            var object: [String: Any] = ["model": name, "threads": context.threads]
            for (key, value) in extra { object[key] = value }
            for (name, fields) in ordered { object[name] = fields.mapValues { ($0 * 1000).rounded() / 1000 } }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("model \(name), \(context.threads) BLAS threads")
            for (key, value) in extra.sorted(by: { $0.key < $1.key }) { print("  \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(value)") }
            for (name, fields) in ordered {
                print(name)
                for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                    print("  \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%.3f", value))")
                }
            }
        }
    }
}
