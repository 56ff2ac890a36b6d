import InfillModel
import InfillSampling

/// What stays the same for every sampling unit of one document.
struct DocumentRun {
    var plan: DocumentPlan
    /// Each field's constraints as first compiled (the unit re-tunes its own copy).
    var compiled: [Int: CompiledField]
    var documentSeed: UInt64
    var shouldContinue: (@Sendable () -> Bool)?
    var progress: (@Sendable (FillProgress) -> Void)?
    var recorder: ReplayRecorder?
}

/// How one unit's fill ended: its fields' outcomes and what it cost.
struct UnitResult {
    var outcomes: [(Int, FieldOutcome)]
    var steps: Int
    var forwardPasses: Int
    var seconds: Double
    var seed: UInt64
    var attempts: Int
    /// Where the passes' time went, over all attempts.
    var timings: SamplingTimings
}

/// The best of one attempt's candidates: fewest violations, then highest score (first on ties).
struct UnitCandidate {
    var index: Int
    var outcomes: [(Int, FieldOutcome)]
    var score: Double
    var violations: Int
}

extension DocumentFiller {
    /// Fills the fields of one sampling unit on one canvas: sample the candidates, keep the best,
    /// and, while it breaks a length constraint, re-tune the budgets and sample again (up to
    /// ``maxAttempts``).
    func fillUnit(_ unit: [Int], index unitIndex: Int, filled: [Int: String], forwardsSoFar: Int,
                  in run: DocumentRun) throws -> UnitResult {
        let plan = run.plan
        let clock = ContinuousClock()
        let started = clock.now
        let settings = plan.fields[unit[0]].sampling
        var budgets = run.compiled
        var forwards = 0
        var timings = SamplingTimings()
        var lastProblem: (field: Int, violations: [String]) = (unit[0], [])
        let unitSeed = Self.unitSeed(settings, plan: plan, documentSeed: run.documentSeed)
        let names = unit.map { plan.fields[$0].name }
        // Explicit per-field steps add up over the canvas; otherwise one per masked token.
        let fieldSteps = unit.map { plan.fields[$0].sampling.steps }
        let steps = fieldSteps.contains(nil) ? nil : fieldSteps.reduce(0) { $0 + ($1 ?? 0) }
        let parameters = samplingParameters(settings, steps: steps)
        let progress = run.progress, fieldsDone = filled.count
        // The document is tokenised once per unit; an attempt only changes the gaps' budgets.
        let tokenised = CanvasLayout.build(plan: plan, unit: unit, filled: filled, compiled: budgets, tokenizer: model.tokenizer,
                                           template: model.chatTemplate, layout: model.instructionLayout(settings.instructions))
        let start = model.model.startTokenID
        // The best fill so far that meets every hard constraint.
        var kept: (best: UnitCandidate, canvas: Canvas, result: SamplingResult, seed: UInt64)?
        for attempt in 0..<Self.maxAttempts {
            let layout = tokenised.rebudgeted(budgets).window(maxLength: model.model.maxSequenceLength - (start == nil ? 0 : 1))
            let seeds = (0..<settings.candidates).map {
                DocumentSeed.canvas(unitSeed, pass: unitIndex, attempt: attempt, candidate: $0)
            }
            let canvases = seeds.map { layout.canvas(maskTokenID: model.model.maskTokenID, startTokenID: start, seed: $0) }
            let forwardsBefore = forwards
            let results: [SamplingResult]
            do {
                results = try sampler.sample(canvases, parameters: parameters, recordHistory: run.recorder != nil, progress: { p in
                    progress?(FillProgress(fields: names, fieldsDone: fieldsDone, fieldsTotal: plan.fields.count, step: p.step,
                                           totalSteps: p.totalSteps, forwardPasses: forwardsSoFar + forwardsBefore + p.forwardPasses))
                }, shouldContinue: run.shouldContinue)
            } catch let error as CancellationError {
                throw error
            } catch let error as SamplingError {
                throw samplingFailure(error, plan: plan, layout: layout)
            } catch {
                throw DocumentError("the model failed: \(error)", file: plan.template.file, isPermanent: false)
            }
            forwards += results.map(\.forwardPasses).max() ?? 0
            // The candidates share every pass, so one of them tells where the time went.
            timings = timings + (results.first?.timings ?? SamplingTimings())
            guard let best = try bestCandidate(of: results, canvases: canvases, layout: layout, plan: plan) else { break }
            if best.violations == 0, kept.map({ best.score > $0.best.score }) ?? true {
                kept = (best, canvases[best.index], results[best.index], seeds[best.index])
            }
            if let k = kept {
                // A fill that meets every constraint but does not read as prose gets one more
                // attempt with fresh seeds (a few percent of fills), and the better of the two is kept.
                let unreadable = k.best.outcomes.contains { !$0.1.readable }
                if !unreadable || attempt >= Self.readableRetries || attempt + 1 == Self.maxAttempts {
                    run.recorder?.finishUnit(unitIndex, canvas: k.canvas, gapFields: layout.gapFields,
                                             result: k.result, outcomes: k.best.outcomes)
                    return UnitResult(
                        outcomes: k.best.outcomes, steps: k.result.steps, forwardPasses: forwards,
                        seconds: (clock.now - started).inSeconds, seed: k.seed, attempts: attempt + 1,
                        timings: timings)
                }
                continue
            }
            lastProblem = retune(&budgets, after: best.outcomes, plan: plan) ?? lastProblem
        }
        let field = plan.fields[lastProblem.field]
        throw DocumentError(
            "field '\(field.name)' could not meet its constraints in \(Self.maxAttempts) attempts: "
                + lastProblem.violations.joined(separator: "; "),
            at: field.location, hint: "loosen 'words'/'tokens', or raise 'candidates'")
    }

    /// A unit's seed: the document seed, or (when the fields set their own seed) that seed mixed
    /// with the input hash the same way.
    static func unitSeed(_ settings: ResolvedSampling, plan: DocumentPlan, documentSeed: UInt64) -> UInt64 {
        let pipelineSeed = ResolvedSampling(plan.pipeline.sampling).seed
        return settings.seed == pipelineSeed ? documentSeed : settings.seed ^ (documentSeed ^ pipelineSeed)
    }

    /// Decodes and scores every candidate of one attempt and returns the best.
    ///
    /// With several candidates and a parent, each candidate's score also counts how fluent the
    /// parent finds the canvas from the first gap to the end (the fills and the fixed text after
    /// them, so a fill that does not fit what follows it loses): ``fluencyWeight`` points per nat
    /// of mean NLL per token, after hard constraints and readability.
    func bestCandidate(of results: [SamplingResult], canvases: [Canvas], layout: CanvasLayout,
                       plan: DocumentPlan) throws -> UnitCandidate? {
        var best: UnitCandidate?
        for (c, result) in results.enumerated() {
            var outcomes: [(Int, FieldOutcome)] = []
            for (g, fieldIndex) in layout.gapFields.enumerated() {
                let ids = g < result.gapTokens.count ? result.gapTokens[g] : []
                let raw = model.tokenizer.decode(ids, skipSpecial: true)
                var outcome = FieldOutcome.make(raw: raw, tokenCount: ids.count, field: plan.fields[fieldIndex],
                                                tokenizer: model.tokenizer)
                outcome.keywordFit = g < result.keywordFit.count ? result.keywordFit[g].min() ?? 0 : 0
                outcomes.append((fieldIndex, outcome))
            }
            var score = outcomes.reduce(0) { $0 + $1.1.score }
            if results.count > 1, let parent = model.parent, let first = canvases[c].gaps.map(\.range.lowerBound).min() {
                let nlls = try parentNLLs(parent, result.tokens, from: first, file: plan.template.file)
                if !nlls.isEmpty { score -= Self.fluencyWeight * Double(outcomes.count) * nlls.reduce(0, +) / Double(nlls.count) }
            }
            let violations = outcomes.reduce(0) { $0 + $1.1.violations.count }
            let better = best.map { violations < $0.violations || (violations == $0.violations && score > $0.score) } ?? true
            if better { best = UnitCandidate(index: c, outcomes: outcomes, score: score, violations: violations) }
        }
        return best
    }

    /// Candidate score points per nat of the parent's mean NLL per token, per field of the canvas.
    static let fluencyWeight = 10.0

    private func parentNLLs(_ parent: any ParentModel, _ tokens: [TokenID], from start: Int, file: String) throws -> [Double] {
        do {
            return try parent.tokenNLLs(of: tokens, from: start)
        } catch {
            throw DocumentError("the parent model failed: \(error)", file: file, isPermanent: false)
        }
    }

    /// Adjusts the budgets of the fields that came out too short or too long for the next
    /// attempt; returns the last field with a violation and its violations.
    func retune(_ budgets: inout [Int: CompiledField], after outcomes: [(Int, FieldOutcome)],
                plan: DocumentPlan) -> (field: Int, violations: [String])? {
        var lastProblem: (field: Int, violations: [String])?
        for (index, outcome) in outcomes where !outcome.violations.isEmpty {
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
        return lastProblem
    }

    /// The sampler's parameters for a unit's resolved settings.
    func samplingParameters(_ s: ResolvedSampling, steps: Int?) -> SamplingParameters {
        SamplingParameters(
            steps: steps.map { max(1, $0) }, algorithm: s.algorithm,
            blockLength: s.blockLength, threshold: s.threshold.map(Float.init), temperature: Float(s.temperature),
            topP: s.topP.map(Float.init), topK: s.topK, seed: s.seed,
            cache: s.cache, refreshInterval: s.refreshInterval,
            // A model without an autoregressive parent decodes unguided, so one pipeline serves every model.
            guidance: model.parent == nil ? 0 : Float(s.guidance), refreshBlocks: s.refreshBlocks,
            parallelGaps: s.parallelGaps, contrast: Float(s.contextContrast))
    }

    /// A sampler error as a diagnostic at the field (or keyword) it is about.
    func samplingFailure(_ error: SamplingError, plan: DocumentPlan, layout: CanvasLayout) -> DocumentError {
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
}
