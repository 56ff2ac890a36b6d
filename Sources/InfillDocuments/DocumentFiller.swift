import Foundation
import InfillModel
import InfillSampling
import Synchronization

/// Fills templates: parse, pick the pipeline, plan, compile constraints, sample, check, render.
///
/// All fields of a document are filled together in one canvas, with the whole document around
/// them as context (fields whose sampler settings differ — other than `steps` — are filled in
/// later canvases that see the earlier fills; a document too long for the model is filled one
/// field at a time, each in a window around its gap). `candidates: N` samples N canvases and keeps
/// the one with the best constraint score; a canvas whose best candidate still breaks a hard
/// constraint (possible only for word bounds and non-canonical spellings of avoided words) is
/// sampled again with new seeds, up to ``maxAttempts`` times, then the document fails.
///
/// Safe to share between workers: it holds only immutable state and a lock-protected cache.
public final class DocumentFiller: Sendable {
    public let model: LoadedModel
    public let library: PipelineLibrary
    /// Attempts per canvas before a field's constraints are declared unmeetable.
    public static let maxAttempts = 3

    private let compiler: ConstraintCompiler
    private let sampler: DiffusionSampler
    private let toneBiasCache = Mutex<[String: [TokenID: Float]]>([:])

    public init(model: LoadedModel, library: PipelineLibrary) {
        self.model = model
        self.library = library
        self.compiler = ConstraintCompiler(tokenizer: model.tokenizer, model: model.model)
        self.sampler = DiffusionSampler(model: model.model, parent: model.parent)
    }

    /// Parses a template and resolves it against its pipeline (no sampling): what `infill check`
    /// and the first half of ``fill(name:contents:file:pipeline:recordReplay:shouldContinue:progress:)`` do.
    ///
    /// - Parameters:
    ///   - name: the file name (matched against pipelines' `match` globs).
    ///   - contents: the template bytes.
    ///   - file: the label used in errors (default `name`).
    ///   - pipeline: use this pipeline instead of looking one up in ``library``.
    /// - Throws: ``DocumentErrors`` with every problem found.
    public static func plan(
        name: String, contents: [UInt8], file: String? = nil, pipeline: PipelineSpec? = nil, library: PipelineLibrary
    ) throws(DocumentErrors) -> DocumentPlan {
        do {
            let template = try TemplateParser.parse(contents, file: file ?? name)
            let spec = try pipeline ?? library.pipeline(for: template, fileName: name)
            return try DocumentPlan.make(template: template, pipeline: spec)
        } catch let errors as DocumentErrors {
            throw errors
        } catch let error as DocumentError {
            throw DocumentErrors([error])
        } catch {
            throw DocumentErrors([DocumentError("\(error)", file: file ?? name)])
        }
    }

    /// Compiles every field of a plan for this model: the token-level checks (keywords that
    /// cannot fit) without sampling anything.
    public func compile(_ plan: DocumentPlan) throws -> [CompiledField] {
        // The document's own words are what a small model loops on: guard those tokens.
        var context: Set<TokenID> = []
        for piece in plan.pieces {
            if case .text(let bytes) = piece { context.formUnion(model.tokenizer.encode(String(decoding: bytes, as: UTF8.self))) }
        }
        // Every field's keywords too: a keyword pinned in one gap is an easy loop in another.
        for field in plan.fields {
            for keyword in field.spec.keywords { context.formUnion(compiler.keywordTokens(keyword.value)) }
        }
        context = context.filter { !model.tokenizer.isSpecial($0) }
        return try plan.fields.map { field in
            try compiler.compile(field, toneBias: toneBias(field.tone, pipeline: plan.pipeline), contextTokens: context)
        }
    }

    /// Fills one template.
    ///
    /// - Parameters:
    ///   - name: the input's file name (for `match` globs, `{name}`/`{stem}` and messages).
    ///   - contents: the template's bytes; the seed depends on them.
    ///   - file: the label used in error messages (default `name`).
    ///   - pipeline: use this pipeline instead of looking one up in ``library``.
    ///   - recordReplay: also record every sampler step into ``FilledDocument/replay`` (off by
    ///     default: it keeps the sampler's history; a pipeline with `output: { html: true }` turns it
    ///     on and gets ``FilledDocument/htmlBytes``).
    ///   - shouldContinue: asked before every sampler step; `false` stops the fill with
    ///     `CancellationError` (the daemon's deadline and shutdown reach the sampler this way).
    ///   - progress: called after every sampler step.
    /// - Throws: ``DocumentError`` (the first problem; ``DocumentError/isPermanent`` says whether a
    ///   retry could help), or `CancellationError` when the task is cancelled or `shouldContinue` says so.
    public func fill(
        name: String, contents: [UInt8], file: String? = nil, pipeline: PipelineSpec? = nil,
        recordReplay: Bool = false,
        shouldContinue: (@Sendable () -> Bool)? = nil,
        progress: (@Sendable (FillProgress) -> Void)? = nil
    ) throws -> FilledDocument {
        let clock = ContinuousClock()
        let started = clock.now
        let label = file ?? name
        let plan: DocumentPlan
        do {
            plan = try Self.plan(name: name, contents: contents, file: label, pipeline: pipeline, library: library)
        } catch {
            var first = error.errors.first ?? DocumentError("invalid template", file: label)
            if error.errors.count > 1 { first.message += " (and \(error.errors.count - 1) more problems; run infill check)" }
            throw first
        }
        return try fill(plan, compiled: compile(plan), name: name, contents: contents, recordReplay: recordReplay,
                        started: started, shouldContinue: shouldContinue, progress: progress)
    }

    /// Fills a template already planned (``plan(name:contents:file:pipeline:library:)``) and
    /// compiled (``compile(_:)``), so a caller that checked both before loading the model does
    /// not do them again.
    ///
    /// - Parameters:
    ///   - name: the input's file name (for the output name and the report).
    ///   - contents: the template's bytes; the seed depends on them.
    ///   - recordReplay, shouldContinue, progress: as in
    ///     ``fill(name:contents:file:pipeline:recordReplay:shouldContinue:progress:)``.
    public func fill(
        _ plan: DocumentPlan, compiled fields: [CompiledField], name: String, contents: [UInt8],
        recordReplay: Bool = false,
        shouldContinue: (@Sendable () -> Bool)? = nil,
        progress: (@Sendable (FillProgress) -> Void)? = nil
    ) throws -> FilledDocument {
        try fill(plan, compiled: fields, name: name, contents: contents, recordReplay: recordReplay,
                 started: ContinuousClock.now, shouldContinue: shouldContinue, progress: progress)
    }

    private func fill(
        _ plan: DocumentPlan, compiled fields: [CompiledField], name: String, contents: [UInt8], recordReplay: Bool,
        started: ContinuousClock.Instant, shouldContinue: (@Sendable () -> Bool)?,
        progress: (@Sendable (FillProgress) -> Void)?
    ) throws -> FilledDocument {
        let clock = ContinuousClock()
        var compiled: [Int: CompiledField] = [:]
        for (i, field) in fields.enumerated() { compiled[i] = field }
        try checkWork(plan, compiled: compiled)
        let recorder = recordReplay || plan.pipeline.output.html ? ReplayRecorder(plan: plan, compiled: compiled, model: model) : nil
        let progress = recorder?.observing(progress) ?? progress

        let baseSeed = ResolvedSampling(plan.pipeline.sampling).seed
        let documentSeed = DocumentSeed.document(pipelineSeed: baseSeed, input: contents)
        var filled: [Int: String] = [:]
        var reports: [Int: FillReport.Field] = [:]
        var totalForwards = 0
        let units = samplingUnits(plan: plan, compiled: compiled)
        for (unitIndex, unit) in units.enumerated() {
            let result = try fillUnit(
                plan: plan, unit: unit, unitIndex: unitIndex, filled: filled, compiled: compiled,
                documentSeed: documentSeed, fieldsDone: filled.count, forwardsSoFar: totalForwards,
                shouldContinue: shouldContinue, progress: progress, recorder: recorder)
            totalForwards += result.forwardPasses
            for (index, outcome) in result.outcomes {
                filled[index] = outcome.text
                let field = plan.fields[index]
                reports[index] = FillReport.Field(
                    name: field.name, text: outcome.text, tokens: outcome.tokens, words: outcome.words,
                    steps: result.steps, forwardPasses: result.forwardPasses, seconds: result.seconds,
                    keywords: field.spec.keywords.map(\.value), keywordsFound: outcome.keywordsFound,
                    avoid: field.spec.avoid.map(\.value), tone: field.tone?.name, toneScore: outcome.toneScore,
                    seed: result.seed, candidates: field.sampling.candidates, attempts: result.attempts,
                    canvasFields: unit.map { plan.fields[$0].name })
            }
        }

        // Render: front matter (if kept) and the body with every field's text.
        var document: [UInt8] = []
        if plan.pipeline.output.frontMatter == .keep, let frontMatter = plan.template.frontMatter {
            document += frontMatter.bytes
        }
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes): document += bytes
            case .field(let index): document += Array((filled[index] ?? "").utf8)
            }
        }
        let outputName = plan.pipeline.output.outputName(for: name)
        let elapsed = clock.now - started
        let report = FillReport(
            document: name, output: outputName, pipeline: plan.pipeline.name, model: model.name, adapter: model.adapter,
            seed: documentSeed, fields: plan.fields.indices.compactMap { reports[$0] },
            totalForwardPasses: totalForwards,
            totalSeconds: elapsed.inSeconds)
        var filledDocument = FilledDocument(
            outputName: outputName, documentBytes: document,
            reportBytes: plan.pipeline.output.report ? Array(report.json().utf8) : nil, report: report)
        filledDocument.replay = recorder?.replay
        if plan.pipeline.output.html, let replay = filledDocument.replay {
            filledDocument.htmlBytes = Array(FillHTMLPage.render(report: report, replay: replay).utf8)
        }
        return filledDocument
    }

    /// Most sampler work one document may ask for: Σ over fields of candidates × max(steps,
    /// mask tokens), about the forward-pass rows it costs. A small template can otherwise ask for
    /// 60 fields × 64 candidates × 128 steps and hold a worker for hours.
    public static let maxWorkPerDocument = 32_768

    private func checkWork(_ plan: DocumentPlan, compiled: [Int: CompiledField]) throws {
        var work = 0
        for (i, field) in plan.fields.enumerated() {
            let tokens = compiled[i]?.budget.maskTokens ?? 0
            work += field.sampling.candidates * max(field.sampling.steps ?? 0, tokens)
        }
        guard work <= Self.maxWorkPerDocument else {
            throw DocumentError(
                "the document asks for \(work) units of sampler work (fields × candidates × steps or tokens), "
                    + "more than the limit of \(Self.maxWorkPerDocument)",
                file: plan.template.file, hint: "use fewer fields, fewer 'candidates', fewer 'steps' or shorter 'words'")
        }
    }

    // MARK: Units

    /// Groups the fields into canvases: fields with the same sampler settings (steps aside) go
    /// together, in document order of their first field; a group too long for the model is split
    /// into one canvas per field.
    private func samplingUnits(plan: DocumentPlan, compiled: [Int: CompiledField]) -> [[Int]] {
        var groups: [[Int]] = []
        var keys: [ResolvedSampling] = []
        for index in plan.fields.indices {
            var key = plan.fields[index].sampling
            key.steps = nil
            if let g = keys.firstIndex(of: key) { groups[g].append(index) } else { keys.append(key); groups.append([index]) }
        }
        var units: [[Int]] = []
        for group in groups {
            let layout = CanvasLayout.build(plan: plan, unit: group, filled: [:], compiled: compiled, tokenizer: model.tokenizer)
            let room = model.model.maxSequenceLength - (model.model.startTokenID == nil ? 0 : 1)
            if layout.length <= room { units.append(group) } else { units += group.map { [$0] } }
        }
        return units
    }

    private struct UnitResult {
        var outcomes: [(Int, FieldOutcome)]
        var steps: Int
        var forwardPasses: Int
        var seconds: Double
        var seed: UInt64
        var attempts: Int
    }

    private func fillUnit(
        plan: DocumentPlan, unit: [Int], unitIndex: Int, filled: [Int: String], compiled: [Int: CompiledField],
        documentSeed: UInt64, fieldsDone: Int, forwardsSoFar: Int, shouldContinue: (@Sendable () -> Bool)?,
        progress: (@Sendable (FillProgress) -> Void)?, recorder: ReplayRecorder? = nil
    ) throws -> UnitResult {
        let clock = ContinuousClock()
        let started = clock.now
        let settings = plan.fields[unit[0]].sampling
        let candidates = settings.candidates
        var budgets = compiled
        var forwards = 0
        var lastProblem: (field: Int, violations: [String]) = (unit[0], [])
        // A unit's seed: the document seed, or (when the fields set their own seed) that seed
        // mixed with the input hash the same way.
        let unitSeed = settings.seed == ResolvedSampling(plan.pipeline.sampling).seed
            ? documentSeed : settings.seed ^ (documentSeed ^ ResolvedSampling(plan.pipeline.sampling).seed)
        for attempt in 0..<Self.maxAttempts {
            var layout = CanvasLayout.build(plan: plan, unit: unit, filled: filled, compiled: budgets, tokenizer: model.tokenizer)
            let start = model.model.startTokenID
            layout = layout.window(maxLength: model.model.maxSequenceLength - (start == nil ? 0 : 1))
            let seeds = (0..<candidates).map { DocumentSeed.canvas(unitSeed, pass: unitIndex, attempt: attempt, candidate: $0) }
            let canvases = seeds.map { layout.canvas(maskTokenID: model.model.maskTokenID, startTokenID: start, seed: $0) }
            // Explicit per-field steps add up over the canvas; otherwise one per masked token.
            let fieldSteps = unit.map { plan.fields[$0].sampling.steps }
            let steps = fieldSteps.contains(nil) ? nil : fieldSteps.reduce(0) { $0 + ($1 ?? 0) }
            let parameters = samplingParameters(settings, steps: steps)
            let names = unit.map { plan.fields[$0].name }
            let forwardsBefore = forwards
            let results: [SamplingResult]
            do {
                results = try sampler.sample(canvases, parameters: parameters, recordHistory: recorder != nil, progress: { p in
                    progress?(FillProgress(fields: names, fieldsDone: fieldsDone, fieldsTotal: plan.fields.count, step: p.step,
                                           totalSteps: p.totalSteps, forwardPasses: forwardsSoFar + forwardsBefore + p.forwardPasses))
                }, shouldContinue: shouldContinue)
            } catch let error as CancellationError {
                throw error
            } catch let error as SamplingError {
                throw samplingFailure(error, plan: plan, layout: layout)
            } catch {
                throw DocumentError("the model failed: \(error)", file: plan.template.file, isPermanent: false)
            }
            forwards += results.map(\.forwardPasses).max() ?? 0
            // Score every candidate; keep the best (first on ties).
            var best: (candidate: Int, outcomes: [(Int, FieldOutcome)], score: Double, violations: Int)?
            for (c, result) in results.enumerated() {
                var outcomes: [(Int, FieldOutcome)] = []
                for (g, fieldIndex) in layout.gapFields.enumerated() {
                    let ids = g < result.gapTokens.count ? result.gapTokens[g] : []
                    let raw = model.tokenizer.decode(ids, skipSpecial: true)
                    outcomes.append((fieldIndex, FieldOutcome.make(raw: raw, tokenCount: ids.count, field: plan.fields[fieldIndex],
                                                                   tokenizer: model.tokenizer)))
                }
                let score = outcomes.reduce(0) { $0 + $1.1.score }
                let violations = outcomes.reduce(0) { $0 + $1.1.violations.count }
                let better = best.map { violations < $0.violations || (violations == $0.violations && score > $0.score) } ?? true
                if better { best = (c, outcomes, score, violations) }
            }
            guard let best else { break }
            if best.violations == 0 {
                recorder?.finishUnit(unitIndex, canvas: canvases[best.candidate], gapFields: layout.gapFields,
                                     result: results[best.candidate], outcomes: best.outcomes)
                let elapsed = clock.now - started
                return UnitResult(
                    outcomes: best.outcomes, steps: results[best.candidate].steps, forwardPasses: forwards,
                    seconds: elapsed.inSeconds,
                    seed: seeds[best.candidate], attempts: attempt + 1)
            }
            // Adjust the budgets of the fields that came out too short or too long, then retry.
            for (index, outcome) in best.outcomes where !outcome.violations.isEmpty {
                lastProblem = (index, outcome.violations)
                guard var budget = budgets[index] else { continue }
                let field = plan.fields[index]
                let limit = max(1, model.model.maxSequenceLength / 2)
                if let words = field.spec.words, outcome.words < words.min {
                    // Scale the minimum by how far short the fill fell (at least ×1.5).
                    let factor = max(1.5, Double(words.min) / Double(max(1, outcome.words)) * 1.1)
                    let wanted = Int(Double(budget.budget.minTokens) * factor) + 2
                    budget.budget.maskTokens = min(limit, max(budget.budget.maskTokens, wanted + wanted / 4 + 1))
                    budget.budget.minTokens = min(budget.budget.maskTokens, wanted)
                } else if let words = field.spec.words, outcome.words > words.max {
                    budget.budget.maskTokens = max(budget.budget.minTokens + 1, budget.budget.maskTokens * 4 / 5)
                }
                budget.constraints.minTokens = budget.budget.minTokens
                budget.constraints.allowsNullTail = budget.budget.minTokens < budget.budget.maskTokens
                budgets[index] = budget
            }
        }
        let field = plan.fields[lastProblem.field]
        throw DocumentError(
            "field '\(field.name)' could not meet its constraints in \(Self.maxAttempts) attempts: "
                + lastProblem.violations.joined(separator: "; "),
            at: field.location, hint: "loosen 'words'/'tokens', or raise 'candidates'")
    }

    private func samplingParameters(_ s: ResolvedSampling, steps: Int?) -> SamplingParameters {
        SamplingParameters(
            steps: steps.map { max(1, $0) }, algorithm: s.algorithm,
            blockLength: s.blockLength, threshold: s.threshold.map(Float.init), temperature: Float(s.temperature),
            topP: s.topP.map(Float.init), topK: s.topK, seed: s.seed,
            cache: s.cache, refreshInterval: s.refreshInterval,
            // A model without an autoregressive parent decodes unguided, so one pipeline serves every model.
            guidance: model.parent == nil ? 0 : Float(s.guidance))
    }

    private func samplingFailure(_ error: SamplingError, plan: DocumentPlan, layout: CanvasLayout) -> DocumentError {
        switch error {
        case .keywordDoesNotFit(_, let gap, let keyword):
            let fields = layout.gapFields
            if gap < fields.count {
                let field = plan.fields[fields[gap]]
                let location = keyword < field.spec.keywords.count ? field.spec.keywords[keyword].location : field.location
                return DocumentError("keyword does not fit in field '\(field.name)'", at: location,
                                     hint: "raise the field's 'words'/'tokens' or use fewer keywords")
            }
            return DocumentError("\(error)", file: plan.template.file)
        case .noAllowedToken:
            return DocumentError("the constraints leave no token to sample: \(error)", file: plan.template.file,
                                 hint: "shorten the 'avoid' lists")
        default:
            return DocumentError("sampling failed: \(error)", file: plan.template.file, isPermanent: false)
        }
    }

    /// The logit bias of a tone, computed once per pipeline and tone.
    private func toneBias(_ tone: Tone?, pipeline: PipelineSpec) -> [TokenID: Float] {
        guard let tone else { return [:] }
        let key = ToneCatalog.resolveName(tone.name) != nil && pipeline.tones[tone.name] == nil
            ? "builtin/" + tone.name : pipeline.file + "/" + pipeline.name + "/" + tone.name
        if let cached = toneBiasCache.withLock({ $0[key] }) { return cached }
        let bias = ToneBiasCompiler.bias(for: tone, tokenizer: model.tokenizer,
                                         samplableVocabularySize: model.model.samplableVocabularySize)
        toneBiasCache.withLock { $0[key] = bias }
        return bias
    }
}
