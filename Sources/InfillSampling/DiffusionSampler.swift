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

    public init(model: any DenoisingModel, parent: (any ParentModel)? = nil) {
        self.model = model
        self.parent = parent
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
            runs[i].planBlocks(blockLength: parameters.blockLength, steps: parameters.steps)
            if recordHistory { let t = runs[i].tokens; runs[i].history = [t] }
            if runs[i].finished { runs[i].seconds = elapsed() } else { runs[i].advanceBlock() }
        }
        let totalSteps = runs.map { $0.blockSteps.reduce(0, +) }.max() ?? 0
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
            let outputs = try predictStep(requests, owners: owners, runs: &runs, caching: caching, parameters: parameters)
            let guides = try parentRows(plans: plans, runs: &runs, parameters: parameters)
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
                    try apply(plan, logits: matrix, guide: guides[i], to: &run, distribution: distribution, parameters: parameters)
                }
                run.steps += 1
                run.stepInBlock += 1
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
        /// Positions whose logits are needed (empty: no forward pass for this canvas).
        var requested: [Int]
        /// The still-masked positions of the current block.
        var active: [Int]
        /// `origin`: the positions drawn for commitment.
        var originDraw: Set<Int>
        /// Non-origin: how many positions the schedule commits.
        var scheduled: Int
    }

    private func makePlan(_ run: inout CanvasRun, parameters: SamplingParameters) -> StepPlan {
        let active = run.activePositions
        let blockSteps = run.blockSteps[run.block]
        let i = min(run.stepInBlock, blockSteps - 1)
        if parameters.algorithm == .origin {
            let probability = StepSchedule.originProbability(step: i, of: blockSteps, eps: parameters.eps)
            var drawn = Set<Int>()
            for p in active where probability >= 1 || run.rng.nextUnit() < probability { drawn.insert(p) }
            let requested = parameters.threshold == nil ? active.filter(drawn.contains) : active
            return StepPlan(requested: requested, active: active, originDraw: drawn, scheduled: 0)
        }
        let k = StepSchedule.count(masked: active.count, step: i, of: blockSteps, eps: parameters.eps)
        return StepPlan(requested: active, active: active, originDraw: [], scheduled: k)
    }

    /// The parent's next-token logits at the leftmost masked position of each guided run's
    /// block, combined with nothing yet (``apply`` multiplies them in), in one batched pass.
    private func parentRows(
        plans: [StepPlan?], runs: inout [CanvasRun], parameters: SamplingParameters
    ) throws -> [Int: Guide] {
        guard parameters.guidance > 0, let parent else { return [:] }
        var owners: [Int] = [], prefixes: [[TokenID]] = [], caches: [KVCache] = []
        for i in runs.indices {
            guard let plan = plans[i], !plan.requested.isEmpty, let lead = plan.active.first,
                  let prefix = runs[i].parentPrefix(before: lead), prefix.count <= parent.maxSequenceLength else { continue }
            owners.append(i)
            caches.append(runs[i].parentCache(for: prefix))
            prefixes.append(prefix)
        }
        guard !owners.isEmpty else { return [:] }
        let rows = try parent.nextTokenLogits(after: prefixes, caches: caches)
        guard rows.count == owners.count, rows.allSatisfy({ $0.rows == 1 }) else {
            throw SamplingError.modelOutput("the parent returned \(rows.count) rows for \(owners.count) prefixes")
        }
        var guides: [Int: Guide] = [:]
        for (k, i) in owners.enumerated() {
            guard let lead = plans[i]?.active.first else { continue }
            guides[i] = Guide(position: lead, parentRow: rows[k].values)
        }
        return guides
    }

    /// The parent's view of one position this step.
    struct Guide {
        var position: Int
        var parentRow: [Float]
    }

    private func apply(
        _ plan: StepPlan, logits: LogitMatrix, guide: Guide?, to run: inout CanvasRun, distribution: TokenDistribution,
        parameters: SamplingParameters
    ) throws {
        // The guided position's row is the product of the denoiser's and the parent's distributions.
        var guidedRow: [Float]?
        if let guide, let r = plan.requested.firstIndex(of: guide.position) {
            guidedRow = ParentGuidance.combine(
                denoiser: logits[row: r], parent: guide.parentRow[...], weight: parameters.guidance,
                count: distribution.samplableCount, maskTokenID: model.maskTokenID, nullTokenID: model.nullTokenID)
        }
        func row(_ r: Int) -> ArraySlice<Float> {
            if let guidedRow, plan.requested[r] == guide?.position { return guidedRow[...] }
            return logits[row: r]
        }
        // A gap with keywords still to write commits only its leftmost position, keyword or token.
        let lead = plan.active.first
        if let lead, let r = plan.requested.firstIndex(of: lead), StreamKeywords.write(at: lead, row: row(r), run: &run) {
            return
        }
        func mayCommit(_ p: Int) -> Bool { p == lead || !run.hasPendingKeywords(gap: run.gap(of: p)) }
        var candidates: [Candidate] = []
        candidates.reserveCapacity(plan.requested.count)
        for (r, p) in plan.requested.enumerated() {
            candidates.append(try candidate(for: p, row: row(r), run: &run, distribution: distribution))
        }
        var chosen: [Candidate]
        if parameters.algorithm == .origin {
            chosen = candidates.filter { plan.originDraw.contains($0.position) }
        } else if parameters.algorithmTemperature > 0 {
            chosen = PositionSelection.drawWeighted(candidates, count: plan.scheduled, temperature: parameters.algorithmTemperature, rng: &run.rng)
        } else {
            chosen = Array(candidates.sorted(by: PositionSelection.moreConfident).prefix(plan.scheduled))
        }
        if guidedRow != nil, parameters.algorithm != .origin, plan.scheduled > 0,
           let lead = candidates.first(where: { $0.position == guide?.position }) {
            // Guided decoding runs left to right: the guided position is always among the scheduled.
            chosen = [lead] + chosen.filter { $0.position != lead.position }.prefix(plan.scheduled - 1)
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
        // Commit the surest first; re-check each against what this step already wrote.
        for var c in chosen.sorted(by: PositionSelection.moreConfident) {
            guard run.isMasked(c.position) else { continue }
            if run.forbids(c.token, at: c.position) {
                let r = plan.requested.firstIndex(of: c.position) ?? 0
                c = try candidate(for: c.position, row: row(r), run: &run, distribution: distribution)
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

    /// One step's forward pass: plain, or with the KV cache (a full pass that records it for runs
    /// entering a block or due a refresh, a pass over the active rows for the others).
    private func predictStep(
        _ requests: [PredictionRequest], owners: [Int], runs: inout [CanvasRun],
        caching: (any CachingDenoisingModel)?, parameters: SamplingParameters
    ) throws -> [LogitMatrix] {
        guard let caching, !requests.isEmpty else { return try predict(requests) }
        var outputs = [LogitMatrix?](repeating: nil, count: requests.count)
        var refresh: [Int] = [], partial: [Int] = []
        for (r, i) in owners.enumerated() {
            if runs[i].needsRefresh(interval: parameters.refreshInterval) { refresh.append(r) } else { partial.append(r) }
        }
        if !refresh.isEmpty {
            let caches = refresh.map { r -> KVCache in
                let i = owners[r]
                let cache = runs[i].cache ?? KVCache()
                runs[i].cache = cache
                runs[i].cacheRefreshed()
                return cache
            }
            let subset = refresh.map { requests[$0] }
            let result = try checked(try caching.predict(subset, recordingInto: caches), for: subset)
            for (k, r) in refresh.enumerated() { outputs[r] = result[k] }
        }
        if !partial.isEmpty {
            let subset = partial.map { requests[$0] }
            let rows = partial.map { runs[owners[$0]].recomputeRows(parameters.cache) }
            let caches = partial.compactMap { runs[owners[$0]].cache }
            let result = try checked(try caching.predict(subset, recomputing: rows, caches: caches), for: subset)
            for (k, r) in partial.enumerated() { outputs[r] = result[k] }
        }
        return outputs.compactMap { $0 }
    }

    /// One batched forward pass, checked for shape.
    func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        guard !requests.isEmpty else { return [] }
        return try checked(try model.predict(requests), for: requests)
    }

    /// The model's outputs, checked for shape.
    private func checked(_ outputs: [LogitMatrix], for requests: [PredictionRequest]) throws -> [LogitMatrix] {
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
