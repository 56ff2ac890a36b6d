import Foundation
import InfillDocuments

/// The document-quality benchmark: templates filled over seeds by the diffusion model with the
/// product defaults and by the autoregressive parent left to right, every field measured the same
/// way (``FieldQuality``, ``FluencyJudge``), side by side.
package struct QualityBenchmark: Sendable {
    /// One measured field.
    package struct Field: Sendable {
        package var template: String
        package var field: String
        package var system: String
        package var seed: UInt64
        package var text: String
        package var quality: FieldQuality
        /// Mean NLL under the AR parent (nats per token).
        package var nll: Double?
        /// The document before the field and the literal text after it, as the judges read them.
        package var before: String
        package var after: String
        /// The independent judge's score (`--judge`), when one ran.
        package var judged: ExternalJudge.Score?
        /// The judge's score of the field's text alone, with no document around it.
        package var judgedAlone: ExternalJudge.Score? = nil

        /// How much more likely the judge finds the text in its document than on its own (nats
        /// per token): what the fill owes to its context. Generic text that would do anywhere
        /// ("The team has been working hard.") gains little; nil without both scores.
        package var contextGain: Double? {
            guard let inContext = judged, let alone = judgedAlone, inContext.textTokens > 0, alone.textTokens > 0 else { return nil }
            return alone.textNLL / Double(alone.textTokens) - inContext.textNLL / Double(inContext.textTokens)
        }
    }

    /// One filled document.
    package struct Document: Sendable {
        package var template: String
        package var system: String
        package var seed: UInt64
        package var seconds: Double
        package var forwardPasses: Int
        /// The document failed (its error); its fields are not counted.
        package var error: String?
    }

    /// Aggregates over a set of fields and documents.
    package struct Summary: Sendable {
        package var fields = 0
        package var readable = 0.0
        package var repetition = 0.0
        package var filler = 0.0
        package var lengthOK = 0.0
        package var keywordsOK = 0.0
        package var avoidOK = 0.0
        package var nll = 0.0
        /// The independent judge's mean NLL of the fields' text (NaN without `--judge`).
        package var judgeNLL = Double.nan
        /// Its mean NLL over each field and the literal text after it.
        package var judgeStretchNLL = Double.nan
        /// Share of fields whose stretch the judge finds at least as likely as the human reference's.
        package var judgedAsFluentAsHuman = Double.nan
        /// Mean ``Field/contextGain`` (NaN without `--judge`).
        package var judgeContextGain = Double.nan
        package var documents = 0
        package var failed = 0
        package var secondsPerDocument = 0.0
        package var forwardPassesPerDocument = 0.0

        init(fields: [Field], documents: [Document], human: [String: Double] = [:]) {
            self.fields = fields.count
            let n = Double(max(1, fields.count))
            func share(_ f: (FieldQuality) -> Bool) -> Double { Double(fields.filter { f($0.quality) }.count) / n }
            readable = share(\.readable)
            lengthOK = share(\.lengthOK)
            keywordsOK = share(\.keywordsOK)
            avoidOK = share(\.avoidOK)
            repetition = fields.reduce(0) { $0 + $1.quality.repetition } / n
            filler = fields.reduce(0) { $0 + $1.quality.filler } / n
            let scored = fields.compactMap(\.nll)
            nll = scored.isEmpty ? .nan : scored.reduce(0, +) / Double(scored.count)
            let judged = fields.compactMap(\.judged)
            if !judged.isEmpty {
                let texts = judged.filter { $0.textTokens > 0 }.map { $0.textNLL / Double($0.textTokens) }
                judgeNLL = texts.isEmpty ? .nan : texts.reduce(0, +) / Double(texts.count)
                let stretches = judged.compactMap(\.stretchNLL)
                judgeStretchNLL = stretches.isEmpty ? .nan : stretches.reduce(0, +) / Double(stretches.count)
                let compared = fields.compactMap { f -> Bool? in
                    guard let mine = f.judged?.stretchNLL, let theirs = human[f.template + "/" + f.field] else { return nil }
                    return f.quality.readable && mine <= theirs
                }
                judgedAsFluentAsHuman = compared.isEmpty ? .nan : Double(compared.filter { $0 }.count) / Double(compared.count)
                let gains = fields.compactMap(\.contextGain)
                judgeContextGain = gains.isEmpty ? .nan : gains.reduce(0, +) / Double(gains.count)
            }
            let done = documents.filter { $0.error == nil }
            self.documents = documents.count
            failed = documents.count - done.count
            secondsPerDocument = done.isEmpty ? .nan : done.reduce(0) { $0 + $1.seconds } / Double(done.count)
            forwardPassesPerDocument = done.isEmpty ? .nan : Double(done.reduce(0) { $0 + $1.forwardPasses }) / Double(done.count)
        }
    }

    package struct Report: Sendable {
        package var fields: [Field]
        package var documents: [Document]

        /// Summary per system (and per template when `template` is given).
        package func summary(system: String, template: String? = nil) -> Summary {
            var human: [String: Double] = [:]
            for f in fields where f.system == "human" { human[f.template + "/" + f.field] = f.judged?.stretchNLL }
            return Summary(fields: fields.filter { $0.system == system && (template == nil || $0.template == template) },
                           documents: documents.filter { $0.system == system && (template == nil || $0.template == template) },
                           human: human)
        }

        /// Every field scored by the independent `judge`, in its document and on its own, in one run of it.
        package mutating func judge(with judge: ExternalJudge) throws {
            let inContext = fields.map { ExternalJudge.Request(context: $0.before, text: $0.text, after: $0.after) }
            let alone = fields.map { f in
                ExternalJudge.Request(context: "", text: String(f.text.drop { $0 == " " || $0 == "\n" }), after: "")
            }
            let scores = try judge.score(inContext + alone)
            for i in fields.indices {
                fields[i].judged = scores[i]
                fields[i].judgedAlone = scores[fields.count + i]
            }
        }

        /// Of the fields both systems filled with the same seed, the share where the judge finds
        /// `system`'s stretch (field and following text) more likely than `other`'s, and how many pairs.
        package func judgedWins(_ system: String, over other: String) -> (share: Double, pairs: Int) {
            var theirs: [String: Double] = [:]
            for f in fields where f.system == other { theirs["\(f.template)/\(f.field)/\(f.seed)"] = f.judged?.stretchNLL }
            let pairs = fields.compactMap { f -> Bool? in
                guard f.system == system, let mine = f.judged?.stretchNLL, let other = theirs["\(f.template)/\(f.field)/\(f.seed)"] else { return nil }
                return mine < other
            }
            return (pairs.isEmpty ? .nan : Double(pairs.filter { $0 }.count) / Double(pairs.count), pairs.count)
        }
    }

    package let filler: DocumentFiller
    package let baseline: AutoregressiveBaseline?
    package let judge: FluencyJudge
    /// Sampler settings laid over every pipeline's (for side-by-side runs, e.g. `cache: none`).
    package var override = SamplingSettings()
    /// Human-written fills, measured once per template as the system `human` (calibration).
    package var references = HumanReferences()
    /// Whether Infill fills the templates (false: only the references and the baseline are measured).
    package var fillsWithDiffusion = true

    package init(filler: DocumentFiller, baseline: AutoregressiveBaseline?, judge: FluencyJudge) {
        self.filler = filler
        self.baseline = baseline
        self.judge = judge
    }

    /// Fills every template with every seed (seed added to the pipeline's own), by both systems.
    package func run(
        templates: [(name: String, contents: [UInt8])], seeds: [UInt64], progress: (String) -> Void = { _ in }
    ) throws -> Report {
        var fields: [Field] = []
        var documents: [Document] = []
        for template in templates {
            let plan: DocumentPlan
            do {
                plan = try DocumentFiller.plan(name: template.name, contents: template.contents, library: filler.library)
            } catch {
                // Each error already names the template's file and position.
                throw error.errors.first ?? DocumentError("invalid template", file: template.name)
            }
            if let human = references.fills[template.name] {
                var fills: [Int: String] = [:]
                for (i, f) in plan.fields.enumerated() { fills[i] = human[f.name] }
                if fills.count == plan.fields.count {
                    fields += try measure(plan, fills: fills, template: template.name, system: "human", seed: 0)
                    documents.append(Document(template: template.name, system: "human", seed: 0, seconds: 0, forwardPasses: 0))
                }
            }
            for seed in seeds where fillsWithDiffusion || baseline != nil {
                var pipeline = plan.pipeline
                pipeline.sampling = pipeline.sampling.overriding(with: override)
                pipeline.sampling.seed = (pipeline.sampling.seed ?? 0) &+ seed
                if fillsWithDiffusion {
                    let (filled, document) = try diffusionFill(template, plan: plan, pipeline: pipeline, seed: seed)
                    fields += filled
                    documents.append(document)
                    progress("\(template.name) seed \(seed): diffusion done")
                }
                if let baseline {
                    let clock = ContinuousClock(), arStarted = clock.now
                    let layout = filler.model.instructionLayout(ResolvedSampling(pipeline.sampling).instructions)
                    let texts = try baseline.fill(plan, seed: seed &+ 0x5EED, layout: layout)
                    var fills: [Int: String] = [:]
                    for (i, t) in texts.enumerated() { fills[i] = t }
                    fields += try measure(plan, fills: fills, template: template.name, system: "ar", seed: seed)
                    documents.append(Document(template: template.name, system: "ar", seed: seed,
                                              seconds: (clock.now - arStarted) / .seconds(1),
                                              forwardPasses: texts.reduce(0) { $0 + judge.tokenizer.encode($1).count }))
                    progress("\(template.name) seed \(seed): AR parent done")
                }
            }
        }
        return Report(fields: fields, documents: documents)
    }

    /// Infill's fill of one template and seed, measured; a document that fails counts as failed.
    private func diffusionFill(
        _ template: (name: String, contents: [UInt8]), plan: DocumentPlan, pipeline: PipelineSpec, seed: UInt64
    ) throws -> ([Field], Document) {
        let clock = ContinuousClock(), started = clock.now
        do {
            let filled = try filler.fill(name: template.name, contents: template.contents, pipeline: pipeline)
            var fills: [Int: String] = [:]
            for (i, f) in filled.report.fields.enumerated() { fills[i] = f.text }
            let measured = try measure(plan, fills: fills, template: template.name, system: "diffusion", seed: seed)
            return (measured, Document(template: template.name, system: "diffusion", seed: seed,
                                       seconds: (clock.now - started) / .seconds(1),
                                       forwardPasses: filled.report.totalForwardPasses))
        } catch let error as DocumentError {
            return ([], Document(template: template.name, system: "diffusion", seed: seed,
                                 seconds: (clock.now - started) / .seconds(1), forwardPasses: 0, error: "\(error)"))
        }
    }

    private func measure(_ plan: DocumentPlan, fills: [Int: String], template: String, system: String, seed: UInt64) throws -> [Field] {
        try plan.fields.indices.map { i in
            let text = fills[i] ?? ""
            let around = DocumentText.around(plan, field: i, fills: fills)
            return Field(template: template, field: plan.fields[i].name, system: system, seed: seed, text: text,
                         quality: FieldQuality.measure(text, field: plan.fields[i], following: around.after),
                         nll: try judge.nll(of: text, after: around.before), before: around.before, after: around.after)
        }
    }
}
