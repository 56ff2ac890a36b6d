import Foundation
import InfillModel
import InfillModelTestKit
import InfillSampling
import Testing

/// What the approximate KV cache keeps fresh between full passes (`refresh_blocks`), and gaps
/// decoded side by side (`parallel_gaps`), on the tiny real transformer.
@Suite struct CacheRefreshTests {
    static var model: TransformerModel { CachedSamplingTests.model }

    /// Two gaps, the first with a null tail so it can end early.
    static func canvas(seed: UInt64) -> Canvas {
        Canvas(segments: [.context([1, 20, 30, 40]), .gap(length: 10, GapConstraints(allowsNullTail: true)), .context([50, 60]),
                          .gap(length: 6, GapConstraints()), .context([70])],
               maskTokenID: model.maskTokenID, seed: seed)
    }

    /// Replays the calls and checks that every cached pass recomputed each position whose token
    /// changed since its keys and values were last computed; returns the number of full passes.
    static func checkFreshness(_ calls: [RecordingCachingModel.Call]) -> Int {
        var cached: [TokenID] = []
        var full = 0
        for call in calls {
            switch call {
            case .plain(let requests), .recording(let requests):
                cached = requests[0].tokens
                full += 1
            case .recomputing(let requests, let rows):
                let tokens = requests[0].tokens
                let stale = tokens.indices.filter { $0 < cached.count && tokens[$0] != cached[$0] }
                #expect(Set(stale).isSubset(of: Set(rows[0])), "stale rows \(stale) not in \(rows[0])")
                for p in rows[0] { cached[p] = tokens[p] }
            }
        }
        return full
    }

    @Test func betweenFullPassesEveryChangedPositionIsRecomputed() throws {
        for (every, parallel) in [(nil, false), (3, false), (1000, false), (1000, true)] as [(Int?, Bool)] {
            let recording = RecordingCachingModel(Self.model)
            let p = SamplingParameters(blockLength: 2, temperature: 0.7, cache: .dual, refreshBlocks: every, parallelGaps: parallel)
            let r = try DiffusionSampler(model: recording).sample([Self.canvas(seed: 4)], parameters: p)[0]
            #expect(!r.canvasTokens.contains(Self.model.maskTokenID))
            let full = Self.checkFreshness(recording.calls)
            #expect(full == r.timings.fullPasses)
            if every == 1000 { #expect(full == 1) }
        }
    }

    @Test func fewerFullPassesWithRefreshBlocks() throws {
        func fullPasses(_ every: Int?) throws -> Int {
            let p = SamplingParameters(blockLength: 2, temperature: 0.7, cache: .dual, refreshBlocks: every)
            return try DiffusionSampler(model: Self.model).sample([Self.canvas(seed: 2)], parameters: p)[0].timings.fullPasses
        }
        let everyBlock = try fullPasses(nil), everyThird = try fullPasses(3), once = try fullPasses(1000)
        #expect(everyBlock > everyThird)
        #expect(everyThird > once)
        #expect(once == 1)
        #expect(try fullPasses(1) == everyBlock)
    }

    @Test func parallelGapsAdvanceEveryGapInEachPass() throws {
        let recording = RecordingCachingModel(Self.model)
        // No null tails: every position takes one step, so passes are countable.
        let canvas = Canvas(segments: [.context([1, 20]), .gap(length: 6, GapConstraints()), .context([50]),
                                       .gap(length: 4, GapConstraints()), .context([70])],
                            maskTokenID: Self.model.maskTokenID, seed: 1)
        let p = SamplingParameters(blockLength: 2, temperature: 0.7, cache: .dual, parallelGaps: true)
        let parallel = try DiffusionSampler(model: recording).sample([canvas], parameters: p)[0]
        var q = p
        q.parallelGaps = false
        let sequential = try DiffusionSampler(model: Self.model).sample([canvas], parameters: q)[0]
        #expect(sequential.forwardPasses == 10)
        #expect(parallel.forwardPasses == 6)
        #expect(!parallel.canvasTokens.contains(Self.model.maskTokenID))
        // The first pass asks for the first block of both gaps.
        guard case .recording(let first) = recording.calls.first else {
            Issue.record("the first pass must record the cache")
            return
        }
        #expect(first[0].positions == [2, 3, 9, 10])
    }

    @Test func aParentCacheCutBackWhereThePrefixChangedGivesFreshLogits() throws {
        let parent = CausalParent(transformer: Self.model.transformer)
        let a: [TokenID] = [1, 20, 30, 40, 50, 60], b: [TokenID] = [1, 20, 30, 41, 51, 61, 70]
        let cache = KVCache()
        _ = try parent.nextTokenLogits(after: [a], caches: [cache])
        cache.truncate(to: 3)
        let reused = try parent.nextTokenLogits(after: [b], caches: [cache])[0].values
        let fresh = try parent.nextTokenLogits(after: [b], caches: [KVCache()])[0].values
        let scale = fresh.map(abs).max() ?? 1
        for (x, y) in zip(reused, fresh) { #expect(abs(x - y) <= 1e-4 * scale) }
        #expect(cache.length == b.count)
    }
}
