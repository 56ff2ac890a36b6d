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
/// sampled again with new seeds, up to ``maxAttempts`` times, then the document fails. A field
/// that meets its constraints but still does not read as prose (``FieldQuality/readable``) is
/// then filled once more on its own, between the other fields' finished text, and the new fill
/// is kept if it reads as prose.
///
/// Safe to share between workers: it holds only immutable state and a lock-protected cache.
public final class DocumentFiller: Sendable {
    public let model: LoadedModel
    public let library: PipelineLibrary
    /// Attempts per canvas before a field's constraints are declared unmeetable.
    public static let maxAttempts = 4
    /// Attempts after the first that a unit may spend on fills that meet their constraints but
    /// do not read as prose (``FieldQuality/readable``).
    public static let readableRetries = 1

    private let compiler: ConstraintCompiler
    let sampler: DiffusionSampler
    private let toneBiasCache = Mutex<[String: [TokenID: Float]]>([:])
    private let openingCache = Mutex<[String: KeywordOpening]>([:])

    /// - Parameter overlapsParent: run the parent's pass beside the denoiser's at each guided step
    ///   (``DiffusionSampler/overlapsParent``): for one document at a time on two or more cores.
    public init(model: LoadedModel, library: PipelineLibrary, overlapsParent: Bool = false) {
        self.model = model
        self.library = library
        self.compiler = ConstraintCompiler(tokenizer: model.tokenizer, model: model.model)
        self.sampler = DiffusionSampler(model: model.model, parent: model.parent, overlapsParent: overlapsParent)
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
            var compiled = try compiler.compile(field, toneBias: toneBias(field.tone, pipeline: plan.pipeline), contextTokens: context)
            if let parent = model.parent, !compiled.constraints.keywordOpeners.isEmpty {
                for k in compiled.constraints.midSentenceKeywords.sorted() {
                    let keyword = field.spec.keywords[k]
                    if try opening(of: keyword.value, parent: parent, file: plan.template.file) == .afterSubject {
                        compiled.constraints.keywordOpenersByKeyword[k] = compiler.openerTokens(.afterSubject)
                    }
                }
            }
            return compiled
        }
    }

    /// Whether a lowercase keyword opens a sentence after an article or a subject (cached per keyword).
    private func opening(of keyword: String, parent: any ParentModel, file: String) throws -> KeywordOpening {
        if let known = openingCache.withLock({ $0[keyword] }) { return known }
        let judged: KeywordOpening
        do {
            judged = try KeywordOpening.judge(compiler.keywordTokens(keyword), tokenizer: model.tokenizer, parent: parent)
        } catch {
            throw DocumentError("the parent model failed: \(error)", file: file, isPermanent: false)
        }
        openingCache.withLock { $0[keyword] = judged }
        return judged
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
        var timings = SamplingTimings()
        let units = samplingUnits(plan: plan, compiled: compiled)
        let run = DocumentRun(plan: plan, compiled: compiled, documentSeed: documentSeed, shouldContinue: shouldContinue,
                              progress: progress, recorder: recorder)
        var firstFills: [Int: FieldOutcome] = [:]
        var canvases: [FillReport.Canvas] = []
        // Every canvas counts its cost; only a kept one's fields go into the document.
        func account(_ result: UnitResult, unit: [Int], canvas: Int, repair: Bool) {
            totalForwards += result.forwardPasses
            timings = timings + result.timings
            canvases.append(FillReport.Canvas(
                number: canvas, fields: unit.map { plan.fields[$0].name }, steps: result.steps,
                forwardPasses: result.forwardPasses, seconds: result.seconds, repair: repair, used: false))
        }
        func keep(_ result: UnitResult, unit: [Int], canvas: Int, repaired: Bool) {
            for (index, outcome) in result.outcomes {
                filled[index] = outcome.text
                let field = plan.fields[index]
                reports[index] = FillReport.Field(
                    name: field.name, text: outcome.text, tokens: outcome.tokens, words: outcome.words,
                    steps: result.steps, forwardPasses: result.forwardPasses, seconds: result.seconds,
                    keywords: field.spec.keywords.map(\.value), keywordsFound: outcome.keywordsFound,
                    avoid: field.spec.avoid.map(\.value), tone: field.tone?.name, toneScore: outcome.toneScore,
                    seed: result.seed, candidates: field.sampling.candidates, attempts: result.attempts,
                    canvasFields: unit.map { plan.fields[$0].name }, canvas: canvas, repaired: repaired,
                    keywordFit: field.spec.keywords.isEmpty ? nil : Double(outcome.keywordFit))
            }
        }
        for (unitIndex, unit) in units.enumerated() {
            let result = try fillUnit(unit, index: unitIndex, filled: filled, forwardsSoFar: totalForwards, in: run)
            account(result, unit: unit, canvas: unitIndex, repair: false)
            keep(result, unit: unit, canvas: unitIndex, repaired: false)
            for (index, outcome) in result.outcomes { firstFills[index] = outcome }
        }
        // Repair: a field that still does not read as prose, or whose keyword was forced into a
        // sentence that did not want it, is filled again on its own, with every other field's
        // text in place around it (so it sees both sides written). The new fill replaces it only
        // if it reads as prose and fits its keywords better (``FieldOutcome/isBetterRepair(of:)``).
        // A repair that is dropped leaves no frames in the replay, which shows what was kept.
        let needsRepair = firstFills.filter { !$0.value.readable || $0.value.forcedKeyword }.keys
        for (k, index) in needsRepair.sorted().filter({ plan.fields[$0].sampling.repair }).enumerated() {
            var others = filled
            others[index] = nil
            let replayMark = recorder?.mark()
            let result: UnitResult
            do {
                result = try fillUnit([index], index: units.count + k, filled: others, forwardsSoFar: totalForwards,
                                      in: repairRun(run, field: index, others: others))
            } catch let error as CancellationError {
                throw error
            } catch {
                recorder?.rewind(to: replayMark)
                continue  // the first fill met every constraint; a repair that cannot is dropped
            }
            account(result, unit: [index], canvas: units.count + k, repair: true)
            if let first = firstFills[index], result.outcomes.allSatisfy({ $0.1.isBetterRepair(of: first) }) {
                keep(result, unit: [index], canvas: units.count + k, repaired: true)
            } else {
                recorder?.rewind(to: replayMark)
            }
        }
        let usedCanvases = Set(reports.values.map(\.canvas))
        for i in canvases.indices { canvases[i].used = usedCanvases.contains(canvases[i].number) }

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
            seed: documentSeed, fields: plan.fields.indices.compactMap { reports[$0] }, canvases: canvases,
            totalForwardPasses: totalForwards,
            totalSeconds: elapsed.inSeconds, timings: timings)
        var filledDocument = FilledDocument(
            outputName: outputName, documentBytes: document,
            reportBytes: plan.pipeline.output.report ? Array(report.json().utf8) : nil, report: report)
        filledDocument.replay = recorder?.replay
        if plan.pipeline.output.html, let replay = filledDocument.replay {
            filledDocument.htmlBytes = Array(FillHTMLPage.render(report: report, replay: replay).utf8)
        }
        return filledDocument
    }

    /// The run for repairing field `index`: on its canvas the other fields are context, out of
    /// reach of the repetition guard's n-gram rule (which sees only gaps), so their token n-grams
    /// are banned in the field, as they would be between gaps of one canvas; otherwise a repair
    /// copies a neighbour's sentence ("The incident was investigated and a resolution was
    /// implemented." twice).
    func repairRun(_ run: DocumentRun, field index: Int, others: [Int: String]) -> DocumentRun {
        guard var field = run.compiled[index] else { return run }
        let n = field.constraints.repetition?.ngram ?? 3
        var grams: Set<[TokenID]> = []
        for text in others.values {
            for line in text.split(separator: "\n") {
                let tokens = model.tokenizer.encode(" " + line.drop { $0 == " " })
                guard tokens.count >= n else { continue }
                for start in 0...(tokens.count - n) { grams.insert(Array(tokens[start..<(start + n)])) }
            }
        }
        field.constraints.bannedSequences += grams.sorted { $0.lexicographicallyPrecedes($1) }
        var repair = run
        repair.compiled[index] = field
        return repair
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
            key.repair = true  // decided per field after the canvas, not a sampler setting
            if let g = keys.firstIndex(of: key) { groups[g].append(index) } else { keys.append(key); groups.append([index]) }
        }
        var units: [[Int]] = []
        for group in groups {
            let layout = CanvasLayout.build(plan: plan, unit: group, filled: [:], compiled: compiled, tokenizer: model.tokenizer,
                                            template: model.chatTemplate,
                                            layout: model.instructionLayout(plan.fields[group[0]].sampling.instructions))
            let room = model.model.maxSequenceLength - (model.model.startTokenID == nil ? 0 : 1)
            if layout.length <= room { units.append(group) } else { units += group.map { [$0] } }
        }
        return units
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
