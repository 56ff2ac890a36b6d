import Foundation
import InfillModel
import Synchronization

/// The forward passes of one sampling step, prepared so they can run away from the runs they
/// serve: the denoiser's (full passes that record caches, cached passes over a few rows, or
/// plain passes) and the parent's.
///
/// Preparing does the bookkeeping that needs the runs (which rows to recompute, which caches to
/// extend); running touches only the models and the caches; recording hands the results and
/// their times back to the runs.
enum StepWork {
    /// Runs both passes, the parent's on a second thread when `overlapping`.
    static func run(
        _ forward: ForwardWork, _ guidance: GuidanceWork?, overlapping: Bool
    ) throws -> (ForwardWork.Output, GuidanceWork.Output?) {
        guard overlapping, let guidance, !forward.isEmpty else {
            return (try forward.run(), try guidance?.run())
        }
        // Two single-threaded passes side by side, one per core: splitting each over both would make them fight.
        let threads = BLASThreads.current
        if threads > 1 { BLASThreads.set(1) }
        defer { if threads > 1 { BLASThreads.set(threads) } }
        let forwardResult = Mutex<Result<ForwardWork.Output, any Error>?>(nil)
        let parentResult = Mutex<Result<GuidanceWork.Output, any Error>?>(nil)
        DispatchQueue.concurrentPerform(iterations: 2) { k in
            if k == 0 {
                let result = Result { try forward.run() }
                forwardResult.withLock { $0 = result }
            } else {
                let result = Result { try guidance.run() }
                parentResult.withLock { $0 = result }
            }
        }
        guard let passes = forwardResult.withLock({ $0 }), let parent = parentResult.withLock({ $0 }) else {
            throw SamplingError.modelOutput("a step's passes did not finish")
        }
        return (try passes.get(), try parent.get())
    }
}

/// One step's denoiser passes.
struct ForwardWork: Sendable {
    /// How a group of requests is computed.
    enum Kind {
        case plain
        case recording([KVCache])
        case recomputing(rows: [[Int]], caches: [KVCache])
    }

    struct Group {
        var kind: Kind
        /// Indices into the step's requests.
        var members: [Int]
        var requests: [PredictionRequest]
    }

    let model: any DenoisingModel
    let caching: (any CachingDenoisingModel)?
    let owners: [Int]
    let requestCount: Int
    var groups: [Group] = []

    var isEmpty: Bool { groups.isEmpty }

    /// Each group's logits and the seconds its pass took.
    typealias Output = [(logits: [LogitMatrix], seconds: Double)]

    func run() throws -> Output {
        try groups.map { group in
            let began = ContinuousClock.now
            let logits: [LogitMatrix]
            switch group.kind {
            case .plain: logits = try model.predict(group.requests)
            case .recording(let caches):
                guard let caching else { throw SamplingError.modelOutput("a cached pass without a caching model") }
                logits = try caching.predict(group.requests, recordingInto: caches)
            case .recomputing(let rows, let caches):
                guard let caching else { throw SamplingError.modelOutput("a cached pass without a caching model") }
                logits = try caching.predict(group.requests, recomputing: rows, caches: caches)
            }
            return (logits, (ContinuousClock.now - began).inSeconds)
        }
    }

    /// The logits of every request in order, checked for shape; each run's timings updated.
    func record(_ output: Output, into runs: inout [CanvasRun], checking sampler: DiffusionSampler) throws -> [LogitMatrix] {
        var logits = [LogitMatrix?](repeating: nil, count: requestCount)
        for (group, result) in zip(groups, output) {
            let checked = try sampler.checked(result.logits, for: group.requests)
            for (k, r) in group.members.enumerated() {
                logits[r] = checked[k]
                let i = owners[r]
                switch group.kind {
                case .plain, .recording:
                    runs[i].timings.fullPasses += 1
                    runs[i].timings.fullPassSeconds += result.seconds
                case .recomputing(let rows, _):
                    runs[i].timings.cachedPasses += 1
                    runs[i].timings.cachedPassSeconds += result.seconds
                    runs[i].timings.cachedRows += rows[k].count
                }
            }
        }
        return logits.compactMap { $0 }
    }
}

/// One step's parent pass: the next-token logits at the leftmost masked position of each guided
/// lane, for all lanes of all runs in one batch.
struct GuidanceWork: Sendable {
    let parent: any ParentModel
    /// Each guided position, and the index in ``prefixes`` of its context-free prefix when it
    /// has one (context contrast).
    var owners: [(run: Int, position: Int, plain: Int?)] = []
    var prefixes: [[TokenID]] = []
    var caches: [KVCache] = []

    typealias Output = (rows: [LogitMatrix], seconds: Double)

    func run() throws -> Output {
        let began = ContinuousClock.now
        let rows = try parent.nextTokenLogits(after: prefixes, caches: caches)
        return (rows, (ContinuousClock.now - began).inSeconds)
    }

    /// The guides of each run, checked for shape; each run's timings updated.
    func record(_ output: Output?, into runs: inout [CanvasRun]) throws -> [Int: [DiffusionSampler.Guide]] {
        guard let output else { return [:] }
        guard output.rows.count == prefixes.count, output.rows.allSatisfy({ $0.rows == 1 }) else {
            throw SamplingError.modelOutput("the parent returned \(output.rows.count) rows for \(prefixes.count) prefixes")
        }
        for i in Set(owners.map(\.run)) {
            runs[i].timings.parentPasses += 1
            runs[i].timings.parentSeconds += output.seconds
        }
        var guides: [Int: [DiffusionSampler.Guide]] = [:]
        for (k, owner) in owners.enumerated() {
            guides[owner.run, default: []].append(DiffusionSampler.Guide(
                position: owner.position, parentRow: output.rows[k].values, plainRow: owner.plain.map { output.rows[$0].values }))
        }
        return guides
    }
}

extension DiffusionSampler {
    /// Prepares one step's denoiser passes: plain without a cache; with one, a full pass that
    /// records it for runs that need one (``CanvasRun/cacheUse(interval:everyBlocks:)``) and a
    /// pass over the recomputed rows for the others.
    func prepareForward(
        _ requests: [PredictionRequest], owners: [Int], runs: inout [CanvasRun],
        caching: (any CachingDenoisingModel)?, parameters: SamplingParameters
    ) -> ForwardWork {
        var work = ForwardWork(model: model, caching: caching, owners: owners, requestCount: requests.count)
        guard !requests.isEmpty else { return work }
        guard caching != nil else {
            work.groups = [.init(kind: .plain, members: Array(requests.indices), requests: requests)]
            return work
        }
        var refresh: [Int] = [], partial: [Int] = []
        for (r, i) in owners.enumerated() {
            switch runs[i].cacheUse(interval: parameters.refreshInterval, everyBlocks: parameters.refreshBlocks) {
            case .fullPass: refresh.append(r)
            case .rows: partial.append(r)
            }
        }
        if !refresh.isEmpty {
            let caches = refresh.map { r -> KVCache in
                let i = owners[r]
                let cache = runs[i].cache ?? KVCache()
                runs[i].cache = cache
                runs[i].cacheUpdated(full: true, rows: [])
                return cache
            }
            work.groups.append(.init(kind: .recording(caches), members: refresh, requests: refresh.map { requests[$0] }))
        }
        if !partial.isEmpty {
            let rows = partial.map { runs[owners[$0]].recomputeRows(parameters.cache) }
            let caches = partial.compactMap { runs[owners[$0]].cache }
            for (k, r) in partial.enumerated() { runs[owners[r]].cacheUpdated(full: false, rows: rows[k]) }
            work.groups.append(.init(kind: .recomputing(rows: rows, caches: caches), members: partial,
                                     requests: partial.map { requests[$0] }))
        }
        return work
    }

    /// Prepares the parent's pass for every guided lane with a complete prefix; nil when there
    /// is none (no guidance, or every lead still has a mask before it).
    func prepareGuidance(plans: [StepPlan?], runs: inout [CanvasRun], parameters: SamplingParameters) -> GuidanceWork? {
        guard parameters.guidance > 0, let parent else { return nil }
        var work = GuidanceWork(parent: parent)
        var plain: [(owner: Int, prefix: [TokenID], cache: KVCache)] = []
        for i in runs.indices {
            guard let plan = plans[i], !plan.requested.isEmpty else { continue }
            for lane in plan.lanes {
                guard let lead = lane.active.first, plan.requested.contains(lead),
                      let prefix = runs[i].parentPrefix(lane: lane.lane, before: lead),
                      prefix.count <= parent.maxSequenceLength else { continue }
                if parameters.contrast > 0, let alone = runs[i].plainPrefix(before: lead) {
                    plain.append((work.owners.count, alone, runs[i].lanes[lane.lane].plainSlot.cache(for: alone)))
                }
                work.owners.append((i, lead, nil))
                work.caches.append(runs[i].lanes[lane.lane].parentSlot.cache(for: prefix))
                work.prefixes.append(prefix)
            }
        }
        // The context-free prefixes go in the same batch, after the guided ones.
        for entry in plain {
            work.owners[entry.owner].plain = work.prefixes.count
            work.prefixes.append(entry.prefix)
            work.caches.append(entry.cache)
        }
        return work.owners.isEmpty ? nil : work
    }
}
