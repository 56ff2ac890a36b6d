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
    nonisolated(unsafe) static var sections: [any BenchSection.Type] = [SgemmPeakBench.self, KernelBench.self, ForwardBench.self, SamplerBench.self]

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Fewer repetitions.")
    var quick = false

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

    @Flag(name: .customLong("references-only"), help: "With --quality: judge only the human references (and the AR baseline unless --no-baseline).")
    var referencesOnly = false

    func run() async throws {
        let model = try modelOptions.loadDetailed()
        if quality {
            try requireToneLexicons()
            let bench = QualityBench(
                templates: qualityTemplates.isEmpty ? ["pipelines/examples", "bench/quality"] : qualityTemplates,
                pipelines: qualityPipelines.isEmpty ? ["pipelines", "bench/quality"] : qualityPipelines,
                seeds: seeds, baseline: !noBaseline, json: json, showText: showText, cache: cache,
                sampling: try sampling.map { try SamplingSettings(yaml: $0, label: "--sampling") } ?? SamplingSettings(),
                references: references ?? (qualityTemplates.isEmpty && FileManager.default.fileExists(atPath: "bench/quality/references.yaml")
                    ? "bench/quality/references.yaml" : nil),
                referencesOnly: referencesOnly
            )
            do {
                try bench.run(model: model)
            } catch let error as BenchUsageError {
                throw CLIError.usage(error.description)
            }
            return
        }
        var context = BenchContext(model: model, threads: BLASThreads.current, quick: quick)
        var ordered: [(String, [String: Double])] = []
        for section in Self.sections {
            let result = try section.run(context)
            context.results[section.name] = result
            ordered.append((section.name, result))
        }
        let memory = ["peak_rss_mib": BenchTiming.peakResidentMiB()]
        ordered.append(("memory", memory))
        if json {
            var object: [String: Any] = ["model": model.description.name, "threads": context.threads,
                                         "adapter": model.description.adapter?.name ?? NSNull()]
            for (name, fields) in ordered { object[name] = fields.mapValues { ($0 * 1000).rounded() / 1000 } }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("model \(model.description.name), \(context.threads) BLAS threads")
            for (name, fields) in ordered {
                print(name)
                for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                    print("  \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%.3f", value))")
                }
            }
        }
    }
}
