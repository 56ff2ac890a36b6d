import InfillModel
import InfillSampling
import Synchronization

/// Builds a ``FillReplay`` while ``DocumentFiller`` fills: records the time and forward passes of
/// every sampler step from the progress reports, and turns each finished canvas's sampler history
/// into frames of field texts.
///
/// Only the attempt that was kept is replayed (a sampler call restarts its steps at 1, which
/// drops the steps of an attempt that was sampled again).
final class ReplayRecorder: Sendable {
    private struct Step {
        var totalSteps: Int
        var forwardPasses: Int
        var seconds: Double
    }

    private struct State {
        var frames: [FillReplay.Frame] = []
        var steps: [Step] = []
    }

    private let plan: DocumentPlan
    private let tokenizer: any Tokenizer
    private let maskTokenID: TokenID
    private let nullTokenID: TokenID
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// Starts the replay with every field masked over its planned number of mask tokens.
    init(plan: DocumentPlan, compiled: [Int: CompiledField], model: LoadedModel) {
        self.plan = plan
        tokenizer = model.tokenizer
        maskTokenID = model.model.maskTokenID
        nullTokenID = model.model.nullTokenID
        var texts: [Int: String] = [:]
        for index in plan.fields.indices {
            texts[index] = String(repeating: FillReplay.mask, count: max(1, compiled[index]?.budget.maskTokens ?? 1))
        }
        let first = FillReplay.Frame(kind: .masked, canvas: 0, step: 0, totalSteps: 0, forwardPasses: 0, seconds: 0, texts: texts)
        state.withLock { $0.frames = [first] }
    }

    /// The replay so far.
    var replay: FillReplay { FillReplay(plan: plan, frames: state.withLock { $0.frames }) }

    /// Passes progress on to `progress` after noting the step's counters and time.
    func observing(_ progress: (@Sendable (FillProgress) -> Void)?) -> @Sendable (FillProgress) -> Void {
        { [self] update in
            record(update)
            progress?(update)
        }
    }

    /// Where the replay stands now, for ``rewind(to:)``.
    func mark() -> Int { state.withLock { $0.frames.count } }

    /// Drops every frame recorded since `mark` (a canvas whose fill was not kept).
    func rewind(to mark: Int?) {
        guard let mark else { return }
        state.withLock { state in
            if state.frames.count > mark { state.frames.removeLast(state.frames.count - mark) }
            state.steps = []
        }
    }

    /// Notes one step's counters; a step 1 starts a new sampler call (the steps before are dropped).
    func record(_ update: FillProgress) {
        let elapsed = ContinuousClock.now - started
        let step = Step(
            totalSteps: update.totalSteps, forwardPasses: update.forwardPasses,
            seconds: elapsed.inSeconds)
        state.withLock { state in
            if update.step <= 1 { state.steps = [] }
            state.steps.append(step)
        }
    }

    /// Adds the frames of one finished canvas: its masks, the canvas after keyword placement and
    /// after each step (from `result.history`), then the fields as cleaned up.
    func finishUnit(_ unit: Int, canvas: Canvas, gapFields: [Int], result: SamplingResult, outcomes: [(Int, FieldOutcome)]) {
        state.withLock { state in
            var current: [Int: String] = [:]
            for frame in state.frames { current.merge(frame.texts) { $1 } }
            let previous = state.frames.last
            func add(_ kind: FillReplay.Frame.Kind, step: Int, counters: Step?, texts: [Int: String], always: Bool) {
                guard always || texts.contains(where: { current[$0.key] != $0.value }) else { return }
                current.merge(texts) { $1 }
                let last = state.frames.last ?? previous
                state.frames.append(FillReplay.Frame(
                    kind: kind, canvas: unit, step: step,
                    totalSteps: counters?.totalSteps ?? state.steps.first?.totalSteps ?? 0,
                    forwardPasses: counters?.forwardPasses ?? last?.forwardPasses ?? 0,
                    seconds: counters?.seconds ?? last?.seconds ?? 0, texts: texts))
            }
            var masked: [Int: String] = [:]
            for (g, field) in gapFields.enumerated() where g < canvas.gaps.count {
                masked[field] = String(repeating: FillReplay.mask, count: canvas.gaps[g].range.count)
            }
            add(.masked, step: 0, counters: nil, texts: masked, always: false)
            for (index, tokens) in (result.history ?? []).enumerated() {
                var texts: [Int: String] = [:]
                for (g, field) in gapFields.enumerated() where g < canvas.gaps.count {
                    texts[field] = text(of: tokens, in: canvas.gaps[g].range)
                }
                if index == 0 {
                    add(.keywords, step: 0, counters: nil, texts: texts, always: false)
                } else {
                    let counters = index - 1 < state.steps.count ? state.steps[index - 1] : nil
                    add(.step, step: index, counters: counters, texts: texts, always: true)
                }
            }
            var cleaned: [Int: String] = [:]
            for (field, outcome) in outcomes { cleaned[field] = outcome.text }
            add(.cleanup, step: result.steps, counters: nil, texts: cleaned, always: false)
            state.steps = []
        }
    }

    /// A gap's text in one canvas: runs of tokens decoded, one ``FillReplay/mask`` per masked
    /// position, the null tail left out.
    private func text(of tokens: [TokenID], in range: Range<Int>) -> String {
        var text = ""
        var run: [TokenID] = []
        func flush() {
            if !run.isEmpty { text += tokenizer.decode(run, skipSpecial: true) }
            run = []
        }
        for position in range where position < tokens.count {
            let token = tokens[position]
            if token == maskTokenID {
                flush()
                text.append(FillReplay.mask)
            } else if token != nullTokenID {
                run.append(token)
            }
        }
        flush()
        return text
    }
}
