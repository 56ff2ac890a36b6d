import Foundation
import InfillDocuments
import InfillModel
import InfillSampling

/// `infill bench --quality`: the document-quality benchmark (see ``QualityBenchmark``).
///
/// Fills the example templates and the held-out ones in `bench/quality/` (genres the examples do
/// not cover) over seeds, with the product defaults, and the AR parent's left-to-right fills of
/// the same templates as the baseline; prints readable-field share, repetition, filler, length /
/// keyword / avoid satisfaction, fluency (AR-parent NLL, lower is better), seconds and forward
/// passes per document, per template and overall, side by side.
package struct QualityBench {
    package var templates: [String]
    package var pipelines: [String]
    package var seeds: Int
    package var baseline: Bool
    package var json: Bool
    package var showText: Bool
    package var cache: String?
    /// Sampler settings laid over every pipeline's (`--sampling`).
    package var sampling = SamplingSettings()
    /// Human-written fills of the templates (`--references`), measured as the system `human`.
    package var references: String?
    /// Measure only the references and the baseline (`--references-only`).
    package var referencesOnly = false
    /// The independent fluency judge's command line (`--judge`), e.g. tools/judge/build.sh's output.
    package var judge: String?

    package init(
        templates: [String], pipelines: [String], seeds: Int, baseline: Bool, json: Bool, showText: Bool, cache: String?,
        sampling: SamplingSettings = SamplingSettings(), references: String? = nil, referencesOnly: Bool = false
    ) {
        self.templates = templates
        self.pipelines = pipelines
        self.seeds = seeds
        self.baseline = baseline
        self.json = json
        self.showText = showText
        self.cache = cache
        self.sampling = sampling
        self.references = references
        self.referencesOnly = referencesOnly
    }

    /// Runs the benchmark and prints its table (or JSON) on stdout; progress goes to stderr.
    package func run(model: ModelLoader.Result) throws {
        if let cache, CacheMode(rawValue: cache) == nil {
            throw BenchUsageError("--cache must be none, prefix or dual (got '\(cache)')")
        }
        // Folder by folder, so a template naming a broken pipeline hears why it is missing.
        var library = PipelineLibrary.empty
        for directory in pipelines { library.addFallbacks(from: try PipelineLibrary.load(directory: directory)) }
        var inputs: [(name: String, contents: [UInt8])] = []
        for path in templates {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
                throw BenchUsageError("\(path): no such template or folder")
            }
            let files = isFolder.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".md") }.sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { throw BenchUsageError("\(file): cannot read") }
                inputs.append((URL(fileURLWithPath: file).lastPathComponent, Array(data)))
            }
        }
        let base = try ModelLoader.load("default", mergeAdapter: false)
        let judge = FluencyJudge(transformer: base.model.transformer, tokenizer: base.loaded.tokenizer)
        var benchmark = QualityBenchmark(
            filler: DocumentFiller(model: model.loaded, library: library, overlapsParent: BLASThreads.current >= 2),
            baseline: baseline
                ? AutoregressiveBaseline(transformer: base.model.transformer, tokenizer: base.loaded.tokenizer,
                                         chatTemplate: base.loaded.chatTemplate)
                : nil,
            judge: judge)
        if let references { benchmark.references = try HumanReferences(path: references) }
        let external = try self.judge.map { try ExternalJudge(commandLine: $0) }
        // One request first, so a judge that cannot start fails now rather than after the fills.
        _ = try external?.score([ExternalJudge.Request(context: "The", text: " judge", after: " starts.")])
        benchmark.fillsWithDiffusion = !referencesOnly
        benchmark.override = sampling
        if let cache { benchmark.override.cache = cache }
        var report = try benchmark.run(templates: inputs, seeds: (0..<UInt64(max(1, seeds))).map { $0 }) { line in
            FileHandle.standardError.write(Data(("infill: " + line + "\n").utf8))
        }
        if let external {
            FileHandle.standardError.write(Data("infill: judging \(report.fields.count) fields with \(external.command.joined(separator: " "))\n".utf8))
            try report.judge(with: external)
        }
        let systems = (referencesOnly ? [] : ["diffusion"]) + (baseline ? ["ar"] : [])
            + (report.documents.contains { $0.system == "human" } ? ["human"] : [])
        if json {
            var object: [String: Any] = ["model": model.description.name, "adapter": model.description.adapter?.name ?? NSNull(),
                                         "seeds": seeds]
            var overall: [String: Any] = [:], perTemplate: [String: Any] = [:]
            for s in systems { overall[s] = Self.dictionary(report.summary(system: s)) }
            for t in inputs.map(\.name) {
                var row: [String: Any] = [:]
                for s in systems { row[s] = Self.dictionary(report.summary(system: s, template: t)) }
                perTemplate[t] = row
            }
            object["overall"] = overall
            object["templates"] = perTemplate
            object["fields"] = report.fields.map { f in
                ["template": f.template, "field": f.field, "system": f.system, "seed": f.seed, "text": f.text,
                 "readable": f.quality.readable, "nll": f.nll ?? NSNull(),
                 "judge_nll": f.judged.map { $0.textTokens > 0 ? $0.textNLL / Double($0.textTokens) : Double.nan }.map(Self.number) ?? NSNull(),
                 "judge_stretch_nll": f.judged?.stretchNLL ?? NSNull(),
                 "judge_context_gain": f.contextGain.map(Self.number) ?? NSNull()] as [String: Any]
            }
            if external != nil, systems.contains("diffusion"), systems.contains("ar") {
                let wins = report.judgedWins("diffusion", over: "ar")
                object["judge_diffusion_over_ar"] = ["share": Self.number(wins.share), "pairs": wins.pairs]
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("document quality: \(inputs.count) templates × \(seeds) seeds, model \(model.description.name)"
              + (model.description.adapter.map { " + \($0.name)" } ?? ""))
        let header = "template".padding(toLength: 34, withPad: " ", startingAt: 0)
            + "system     readable  repeat  filler  length  keyw  avoid   NLL    s/doc  fwd/doc"
            + (external != nil ? "   judge  stretch  ≥human   gain" : "")
        print(header)
        for t in inputs.map(\.name) + ["ALL"] {
            for s in systems {
                let m = report.summary(system: s, template: t == "ALL" ? nil : t)
                print(Self.row(t, s, m) + (external != nil ? Self.judgeColumns(m) : ""))
            }
        }
        if external != nil, systems.contains("diffusion"), systems.contains("ar") {
            let wins = report.judgedWins("diffusion", over: "ar")
            print(String(format: "judge: Infill's field and the text after it more likely than the AR parent's in %.0f%% of %d pairs (same field, same seed)",
                         wins.share * 100, wins.pairs))
        }
        if showText {
            for f in report.fields {
                print("\n[\(f.system)] \(f.template) / \(f.field) (seed \(f.seed))\(f.quality.readable ? "" : " — NOT READABLE"):\n\(f.text)")
            }
        }
    }

    /// One line of the table: a template, a system and its summary.
    static func row(_ template: String, _ system: String, _ m: QualityBenchmark.Summary) -> String {
        func pct(_ x: Double) -> String { String(format: "%5.0f%%", x * 100) }
        return template.padding(toLength: 34, withPad: " ", startingAt: 0)
            + system.padding(toLength: 10, withPad: " ", startingAt: 0)
            + " \(pct(m.readable))   \(String(format: "%.3f", m.repetition))   \(String(format: "%.3f", m.filler))  "
            + "\(pct(m.lengthOK)) \(pct(m.keywordsOK)) \(pct(m.avoidOK))  \(String(format: "%.2f", m.nll))  "
            + String(format: "%6.1f  %6.0f", m.secondsPerDocument, m.forwardPassesPerDocument)
            + (m.failed > 0 ? "  (\(m.failed) failed)" : "")
    }

    /// The independent judge's columns: field NLL, stretch NLL, share judged at least as fluent as
    /// the human reference, context gain.
    static func judgeColumns(_ m: QualityBenchmark.Summary) -> String {
        func f(_ x: Double) -> String { x.isNaN ? "    –" : String(format: "%5.2f", x) }
        return "   \(f(m.judgeNLL))   \(f(m.judgeStretchNLL))  "
            + (m.judgedAsFluentAsHuman.isNaN ? "     –" : String(format: "%5.0f%%", m.judgedAsFluentAsHuman * 100))
            + "  \(f(m.judgeContextGain))"
    }

    /// A number for JSON: NaN as null, three decimals.
    static func number(_ x: Double) -> Any { x.isNaN ? NSNull() : (x * 1000).rounded() / 1000 }

    /// A summary as the JSON output writes it (NaN as null, three decimals).
    static func dictionary(_ m: QualityBenchmark.Summary) -> [String: Any] {
        func r(_ x: Double) -> Any { x.isNaN ? NSNull() : (x * 1000).rounded() / 1000 }
        return ["fields": m.fields, "readable_share": r(m.readable), "repetition_rate": r(m.repetition),
                "filler_rate": r(m.filler), "length_ok": r(m.lengthOK), "keywords_ok": r(m.keywordsOK),
                "avoid_ok": r(m.avoidOK), "fluency_nll": r(m.nll), "judge_nll": r(m.judgeNLL),
                "judge_stretch_nll": r(m.judgeStretchNLL), "judged_as_fluent_as_human": r(m.judgedAsFluentAsHuman),
                "judge_context_gain": r(m.judgeContextGain), "documents": m.documents, "failed": m.failed,
                "seconds_per_document": r(m.secondsPerDocument), "forward_passes_per_document": r(m.forwardPassesPerDocument)]
    }
}
