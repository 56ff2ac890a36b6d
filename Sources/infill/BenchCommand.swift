import ArgumentParser
import COpenBLAS
import Foundation
import InfillDocuments
import InfillModel
#if canImport(Glibc)
import Glibc
#endif

/// What every benchmark section gets: the loaded model and the settings of this run.
struct BenchContext {
    let model: ModelLoader.Result
    let threads: Int
    /// Fewer repetitions (for tests and quick looks).
    let quick: Bool
    /// Results of earlier sections, by section name (the forward section reads the sgemm peak).
    var results: [String: [String: Double]] = [:]
}

/// One section of `infill bench`: a name and a measurement producing named numbers.
///
/// New sections (sampler forward passes per algorithm, documents per minute, …) are types
/// conforming to this protocol, listed in ``BenchCommand/sections``.
protocol BenchSection {
    /// Key of the section in the JSON output.
    static var name: String { get }
    /// Runs the measurement; the keys become the section's JSON fields.
    static func run(_ context: BenchContext) throws -> [String: Double]
}

/// `infill bench`: the performance figures of README.md ("Performance"), measured in one run on the loaded model.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm peak, forward speed, GFLOP/s and peak memory on the loaded model.")

    /// The sections, run in order (later sections may read earlier results).
    nonisolated(unsafe) static var sections: [any BenchSection.Type] = [SgemmPeakBench.self, ForwardBench.self, SamplerBench.self]

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
            try QualityBench(
                templates: qualityTemplates.isEmpty ? ["pipelines/examples", "bench/quality"] : qualityTemplates,
                pipelines: qualityPipelines.isEmpty ? ["pipelines", "bench/quality"] : qualityPipelines,
                seeds: seeds, baseline: !noBaseline, json: json, showText: showText, cache: cache,
                sampling: try sampling.map { try SamplingSettings(yaml: $0, label: "--sampling") } ?? SamplingSettings(),
                references: references ?? (qualityTemplates.isEmpty && FileManager.default.fileExists(atPath: "bench/quality/references.yaml")
                    ? "bench/quality/references.yaml" : nil),
                referencesOnly: referencesOnly
            ).run(model: model, modelOptions: modelOptions)
            return
        }
        var context = BenchContext(model: model, threads: BLASThreads.current, quick: quick)
        var ordered: [(String, [String: Double])] = []
        for section in Self.sections {
            let result = try section.run(context)
            context.results[section.name] = result
            ordered.append((section.name, result))
        }
        let memory = ["peak_rss_mib": Self.peakResidentMiB()]
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

    /// Peak resident set size of this process in MiB (getrusage reports KiB on Linux).
    static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// Best wall time of `body` over `repetitions` runs after one warm-up.
    static func bestSeconds(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            try body()
            best = min(best, (ContinuousClock.now - start) / .seconds(1))
        }
        return best
    }
}

/// The `sgemm` peak of this machine at this thread count.
///
/// Each size is timed over windows of repeated calls about as long as one forward pass (best of
/// three windows), the statistic the forward section uses too: on a shared machine a single
/// millisecond call can catch a quiet moment that no sustained computation sees. The best single
/// call is reported as `burst_peak_gflops` for comparison.
struct SgemmPeakBench: BenchSection {
    static let name = "sgemm"

    static func run(_ context: BenchContext) throws -> [String: Double] {
        var result: [String: Double] = [:]
        var peak = 0.0, burst = 0.0
        let window = context.quick ? 0.3 : 1.0
        for size in context.quick ? [512, 1024] : [512, 1024, 1536] {
            var sgemm = SquareSgemm(size: size)
            let call = { sgemm.call() }
            let flops = sgemm.flops
            let single = BenchCommand.bestSeconds(repetitions: 5, call)
            burst = max(burst, flops / single / 1e9)
            let calls = max(1, Int(window / single))
            let seconds = BenchCommand.bestSeconds(repetitions: 3) {
                for _ in 0..<calls { call() }
            }
            let gflops = flops * Double(calls) / seconds / 1e9
            result["gflops_\(size)"] = gflops
            peak = max(peak, gflops)
        }
        result["peak_gflops"] = peak
        result["burst_peak_gflops"] = burst
        return result
    }
}

/// Forward passes at canvas 256 and 1024: tokens/s, achieved GFLOP/s and its share of the sgemm peak.
///
/// Each pass is the sampler's worst case: one bidirectional sequence with logits at every position.
/// Each repetition is paired with a window of 1024³ sgemm calls of the same length run just before
/// it, so `share_of_adjacent_sgemm` compares the two under the same machine load.
struct ForwardBench: BenchSection {
    static let name = "forward"

    static func run(_ context: BenchContext) throws -> [String: Double] {
        let transformer = context.model.model.transformer
        let peak = context.results[SgemmPeakBench.name]?["peak_gflops"] ?? 0
        var result: [String: Double] = [:]
        var sgemm = SquareSgemm(size: 1024)
        let sgemmCall = { sgemm.call() }
        let sgemmFlops = sgemm.flops
        let sgemmSingle = BenchCommand.bestSeconds(repetitions: 3, sgemmCall)
        for canvas in [256, 1024] where canvas <= transformer.config.contextLength {
            var generator = SystemRandomNumberGenerator()
            let vocabulary = context.model.loaded.tokenizer.vocabularySize
            let tokens = (0..<canvas).map { _ in TokenID(Int.random(in: 0..<vocabulary, using: &generator)) }
            let rows = Array(0..<canvas)
            let forward = { _ = try transformer.logits(sequences: [tokens], outputRows: [rows], attention: .bidirectional) }
            try forward()
            var best = Double.infinity, bestSgemm = 0.0
            for _ in 0..<(context.quick ? 1 : 3) {
                let calls = max(1, Int((best.isFinite ? best : 1) / sgemmSingle))
                let windowStart = ContinuousClock.now
                for _ in 0..<calls { sgemmCall() }
                let window = (ContinuousClock.now - windowStart) / .seconds(1)
                bestSgemm = max(bestSgemm, sgemmFlops * Double(calls) / window / 1e9)
                let start = ContinuousClock.now
                try forward()
                best = min(best, (ContinuousClock.now - start) / .seconds(1))
            }
            let gflops = transformer.flops(sequenceLengths: [canvas], outputRowCount: canvas) / best / 1e9
            result["canvas\(canvas)_seconds"] = best
            result["canvas\(canvas)_tokens_per_s"] = Double(canvas) / best
            result["canvas\(canvas)_gflops"] = gflops
            result["canvas\(canvas)_adjacent_sgemm_gflops"] = bestSgemm
            result["canvas\(canvas)_share_of_adjacent_sgemm"] = gflops / bestSgemm
            if peak > 0 { result["canvas\(canvas)_share_of_peak"] = gflops / peak }
            if let burst = context.results[SgemmPeakBench.name]?["burst_peak_gflops"], burst > 0 {
                result["canvas\(canvas)_share_of_burst_peak"] = gflops / burst
            }
        }
        return result
    }
}
