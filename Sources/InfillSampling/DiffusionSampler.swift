import Foundation
import InfillModel

/// Fills the masked positions of canvases by iterative parallel denoising (Dream / LLaDA /
/// Fast-dLLM semantics; see docs/SAMPLING.md).
///
/// All canvases of one ``sample(_:parameters:recordHistory:progress:)`` call share each forward
/// pass; each canvas has its own random stream, so a batch gives the same results as the canvases
/// sampled one by one.
public struct DiffusionSampler: Sendable {
    /// The denoiser driven by this sampler.
    public let model: any DenoisingModel
    /// The autoregressive parent used by ``SamplingParameters/guidance`` (nil: no guidance).
    public let parent: (any ParentModel)?
    /// Run each step's parent pass on a second thread, beside the denoiser's pass (both
    /// single-threaded). A few-row pass reads every weight once whatever its row count, so on
    /// two free cores the parent's pass then costs no time; leave it off where every core
    /// already has a worker.
    public let overlapsParent: Bool

    public init(model: any DenoisingModel, parent: (any ParentModel)? = nil, overlapsParent: Bool = false) {
        self.model = model
        self.parent = parent
        self.overlapsParent = overlapsParent
    }

    /// Samples every canvas to completion.
    ///
    /// - Parameters:
    ///   - canvases: the canvases to fill, batched in every forward pass.
    ///   - parameters: steps, algorithm, temperature and the rest.
    ///   - recordHistory: keep each canvas after keyword placement and after every step.
    ///   - progress: called after every step of the call.
    ///   - shouldContinue: asked before every step; `false` stops the call with `CancellationError`
    ///     (a deadline or shutdown of a caller that runs the sampler on a plain thread).
    /// - Returns: one ``SamplingResult`` per canvas, in order.
    /// - Throws: ``SamplingError`` for bad input or a model that returns the wrong shape, the
    ///   model's own errors, `CancellationError` when the surrounding task is cancelled.
    public func sample(
        _ canvases: [Canvas], parameters: SamplingParameters = SamplingParameters(),
        recordHistory: Bool = false, progress: ((SamplingProgress) -> Void)? = nil,
        shouldContinue: (() -> Bool)? = nil
    ) throws -> [SamplingResult] {
        try parameters.validate()
        if parameters.guidance > 0 && parent == nil {
            throw SamplingError.invalidParameter("guidance needs the model's autoregressive parent, and this model has none")
        }
        for (i, canvas) in canvases.enumerated() { try canvas.validate(for: model, index: i) }
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            (clock.now - start).inSeconds
        }
        let distribution = TokenDistribution(model: model, parameters: parameters)
        var runs = canvases.enumerated().map { i, canvas in
            CanvasRun(index: i, canvas: canvas, model: model, seed: canvas.seed ?? parameters.seed)
        }
        var forwards = 0
        // Guided decoding runs left to right and writes keywords into the stream; otherwise they
        // are pinned where the model finds them likeliest before denoising starts.
        if parameters.guidance > 0 { try StreamKeywords.prepare(&runs) } else { try placeKeywords(&runs, forwards: &forwards) }
        for i in runs.indices {
            runs[i].planBlocks(blockLength: parameters.blockLength, steps: parameters.steps, parallelGaps: parameters.parallelGaps)
            if recordHistory { let t = runs[i].tokens; runs[i].history = [t] }
            if runs[i].finished { runs[i].seconds = elapsed() } else { runs[i].advanceBlock() }
        }
        let totalSteps = runs.map(\.stepBudget).max() ?? 0
        let caching = parameters.cache != .none && parameters.blockLength != nil ? model as? any CachingDenoisingModel : nil
        var step = 0
        while runs.contains(where: { !$0.finished }) {
            try Task.checkCancellation()
            if let shouldContinue, !shouldContinue() { throw CancellationError() }
            step += 1
            // Plan every active canvas's step; origin draws its positions before the forward pass.
            var plans: [StepPlan?] = Array(repeating: nil, count: runs.count)
            var requests: [PredictionRequest] = []
            var owners: [Int] = []
            for i in runs.indices where !runs[i].finished {
                var run = runs[i]
                let plan = makePlan(&run, parameters: parameters)
                runs[i] = run
                if !plan.requested.isEmpty {
                    requests.append(PredictionRequest(tokens: runs[i].tokens, positions: plan.requested))
                    owners.append(i)
                }
                plans[i] = plan
            }
            let forward = prepareForward(requests, owners: owners, runs: &runs, caching: caching, parameters: parameters)
            let guidance = prepareGuidance(plans: plans, runs: &runs, parameters: parameters)
            let (passes, parentPass) = try StepWork.run(forward, guidance, overlapping: overlapsParent)
            let outputs = try forward.record(passes, into: &runs, checking: self)
            let guides = try guidance?.record(parentPass, into: &runs) ?? [:]
            if !requests.isEmpty { forwards += 1 }
            var logits: [LogitMatrix?] = Array(repeating: nil, count: runs.count)
            for (r, i) in owners.enumerated() {
                logits[i] = outputs[r]
                runs[i].forwardPasses += 1
            }
            for i in runs.indices {
                guard let plan = plans[i] else { continue }
                var run = runs[i]
                if let matrix = logits[i] {
                    try apply(plan, logits: matrix, guides: guides[i] ?? [], to: &run, distribution: distribution, parameters: parameters)
                }
                run.steps += 1
                for lane in plan.lanes { run.lanes[lane.lane].step += 1 }
                run.advanceBlock()
                if recordHistory { run.history?.append(run.tokens) }
                if run.finished { run.seconds = elapsed() }
                runs[i] = run
            }
            progress?(SamplingProgress(
                step: step, totalSteps: totalSteps, masksLeft: runs.reduce(0) { $0 + $1.masksLeft },
                forwardPasses: forwards))
        }
        return runs.map { $0.result() }
    }

    /// What one canvas does in one step.
    struct StepPlan {
        /// Positions whose logits are needed, in canvas order (empty: no forward pass for this canvas).
        var requested: [Int]
        /// What each active lane commits.
        var lanes: [LanePlan]
    }

    /// What one lane of a canvas does in one step.
    struct LanePlan {
        var lane: Int
        /// The still-masked positions of the lane's current block.
        var active: [Int]
        /// `origin`: the positions drawn for commitment.
        var originDraw: Set<Int>
        /// Non-origin: how many positions the schedule commits.
        var scheduled: Int
    }

    private func makePlan(_ run: inout CanvasRun, parameters: SamplingParameters) -> StepPlan {
        var lanes: [LanePlan] = []
        var requested: [Int] = []
        for (l, active) in run.activeLanes {
            guard let b = run.lanes[l].currentBlock else { continue }
            let blockSteps = run.blockSteps[b]
            let i = min(run.lanes[l].step, blockSteps - 1)
            if parameters.algorithm == .origin {
                let probability = StepSchedule.originProbability(step: i, of: blockSteps, eps: parameters.eps)
                var drawn = Set<Int>()
                for p in active where probability >= 1 || run.rng.nextUnit() < probability { drawn.insert(p) }
                requested += parameters.threshold == nil ? active.filter(drawn.contains) : active
                lanes.append(LanePlan(lane: l, active: active, originDraw: drawn, scheduled: 0))
            } else {
                let k = StepSchedule.count(masked: active.count, step: i, of: blockSteps, eps: parameters.eps)
                requested += active
                lanes.append(LanePlan(lane: l, active: active, originDraw: [], scheduled: k))
            }
        }
        return StepPlan(requested: requested.sorted(), lanes: lanes)
    }

    /// The parent's view of one position this step.
    struct Guide {
        var position: Int
        var parentRow: [Float]
        /// The parent's row after the position's field alone (context contrast), when asked for.
        var plainRow: [Float]?
    }

    private func apply(
        _ plan: StepPlan, logits: LogitMatrix, guides: [Guide], to run: inout CanvasRun, distribution: TokenDistribution,
        parameters: SamplingParameters
    ) throws {
        var rowOf: [Int: Int] = [:]
        for (r, p) in plan.requested.enumerated() { rowOf[p] = r }
        // A guided position's row is the product of the denoiser's and the parent's distributions.
        var guidedRows: [Int: [Float]] = [:]
        for guide in guides {
            // A keyword's opener is the denoiser's alone: the parent cannot see the keyword.
            guard let r = rowOf[guide.position], run.openers[guide.position] == nil else { continue }
            guidedRows[guide.position] = ParentGuidance.combine(
                denoiser: logits[row: r], parent: guide.parentRow[...], weight: parameters.guidance,
                count: distribution.samplableCount, maskTokenID: model.maskTokenID, nullTokenID: model.nullTokenID,
                plain: guide.plainRow?[...], contrast: parameters.contrast)
        }
        func row(_ p: Int) -> ArraySlice<Float> {
            if let guided = guidedRows[p] { return guided[...] }
            return logits[row: rowOf[p] ?? 0]
        }
        for lane in plan.lanes {
            try apply(lane, requested: plan.requested.filter(lane.active.contains), guided: guidedRows,
                      row: row, to: &run, distribution: distribution, parameters: parameters)
        }
    }

    /// Commits one lane's positions for this step.
    private func apply(
        _ plan: LanePlan, requested: [Int], guided: [Int: [Float]], row: (Int) -> ArraySlice<Float>,
        to run: inout CanvasRun, distribution: TokenDistribution, parameters: SamplingParameters
    ) throws {
        guard !requested.isEmpty else { return }
        // A gap with keywords still to write commits only its leftmost position, keyword or token.
        let lead = plan.active.first
        if let lead, requested.contains(lead), StreamKeywords.write(at: lead, row: row(lead), run: &run) {
            return
        }
        func mayCommit(_ p: Int) -> Bool { p == lead || !run.hasPendingKeywords(gap: run.gap(of: p)) }
        var candidates: [Candidate] = []
        candidates.reserveCapacity(requested.count)
        for p in requested {
            candidates.append(try candidate(for: p, row: row(p), run: &run, distribution: distribution))
        }
        var chosen: [Candidate]
        if parameters.algorithm == .origin {
            chosen = candidates.filter { plan.originDraw.contains($0.position) }
        } else if parameters.algorithmTemperature > 0 {
            chosen = PositionSelection.drawWeighted(candidates, count: plan.scheduled, temperature: parameters.algorithmTemperature, rng: &run.rng)
        } else {
            chosen = Array(candidates.sorted(by: PositionSelection.moreConfident).prefix(plan.scheduled))
        }
        if let lead, guided[lead] != nil, parameters.algorithm != .origin, plan.scheduled > 0,
           let leader = candidates.first(where: { $0.position == lead }) {
            // Guided decoding runs left to right: the guided position is always among the scheduled.
            chosen = [leader] + chosen.filter { $0.position != lead }.prefix(plan.scheduled - 1)
        }
        if let threshold = parameters.threshold {
            let taken = Set(chosen.map(\.position))
            chosen += candidates.filter { $0.probability >= threshold && !taken.contains($0.position) }
            if chosen.isEmpty, let top = candidates.max(by: { $0.probability < $1.probability }) { chosen = [top] }
        }
        if run.pendingKeywords.contains(where: { !$0.isEmpty }) {
            chosen = chosen.filter { mayCommit($0.position) }
            if chosen.isEmpty, let first = candidates.first(where: { $0.position == lead }) { chosen = [first] }
        }
        if let lead, run.openers[lead] != nil, let opener = candidates.first(where: { $0.position == lead }) {
            // The opener alone this step; guided decoding goes on from the keyword after it.
            chosen = [opener]
            run.openers[lead] = nil
        }
        // Commit the surest first; re-check each against what this step already wrote.
        for var c in chosen.sorted(by: PositionSelection.moreConfident) {
            guard run.isMasked(c.position) else { continue }
            if run.forbids(c.token, at: c.position) {
                c = try candidate(for: c.position, row: row(c.position), run: &run, distribution: distribution)
            }
            run.commit(c.token, at: c.position)
        }
    }

    /// A candidate for `p` that breaks no rule given the canvas as it is now.
    private func candidate(
        for p: Int, row: ArraySlice<Float>, run: inout CanvasRun, distribution: TokenDistribution
    ) throws -> Candidate {
        let allowsNull = run.allowsNull(at: p)
        let bias = run.bias(at: p)
        var rng = run.rng
        let current = run
        let c = try distribution.candidate(
            row: row, position: p, bias: bias, allowsNull: allowsNull, rng: &rng,
            accept: { !current.rejects($0, at: p) })
        run.rng = rng
        guard let c else { throw SamplingError.noAllowedToken(canvas: run.index, position: p) }
        return c
    }

    /// One batched forward pass, checked for shape.
    func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        guard !requests.isEmpty else { return [] }
        return try checked(try model.predict(requests), for: requests)
    }

    /// The model's outputs, checked for shape.
    func checked(_ outputs: [LogitMatrix], for requests: [PredictionRequest]) throws -> [LogitMatrix] {
        guard outputs.count == requests.count else {
            throw SamplingError.modelOutput("\(outputs.count) logit matrices for \(requests.count) requests")
        }
        for (o, r) in zip(outputs, requests) where o.rows != r.positions.count || o.width != model.logitWidth {
            throw SamplingError.modelOutput(
                "\(o.rows)x\(o.width) logits for \(r.positions.count) positions of width \(model.logitWidth)")
        }
        return outputs
    }
}
