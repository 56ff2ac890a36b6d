import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

@Suite struct AlgorithmTests {
    let model = HashedLogitsModel(salt: 7)

    @Test(arguments: [RemaskingAlgorithm.maskgitPlus, .topkMargin, .entropy, .lowConfidence, .random])
    func tokensCommittedPerStepFollowTheSchedule(algorithm: RemaskingAlgorithm) throws {
        let sampler = DiffusionSampler(model: model)
        for (masks, steps, expected) in [(10, 3, [4, 3, 3]), (12, 12, Array(repeating: 1, count: 12)), (9, 4, [3, 2, 2, 2])] {
            let canvas = infillCanvas("ab", masks, "yz")
            let p = SamplingParameters(steps: steps, algorithm: algorithm, temperature: 0.7, seed: 5)
            let r = try sampler.sample([canvas], parameters: p, recordHistory: true)[0]
            #expect(committedPerStep(try #require(r.history)) == expected, "\(algorithm) \(masks)/\(steps)")
            #expect(r.steps == expected.count)
            #expect(r.forwardPasses == expected.count)
        }
    }

    @Test func algTempCommitsTheScheduledCount() throws {
        let sampler = DiffusionSampler(model: model)
        for algorithm in [RemaskingAlgorithm.entropy, .maskgitPlus, .topkMargin] {
            let p = SamplingParameters(steps: 3, algorithm: algorithm, algorithmTemperature: 0.5, seed: 9)
            let r = try sampler.sample([infillCanvas("q", 10)], parameters: p, recordHistory: true)[0]
            #expect(committedPerStep(try #require(r.history)) == [4, 3, 3])
        }
    }

    @Test func algTempNearZeroIsTopKAndLargeAlgTempIsNot() throws {
        let sampler = DiffusionSampler(model: model)
        let canvas = infillCanvas("q", 16)
        let topK = try sampler.sample([canvas], parameters: SamplingParameters(steps: 4, algorithm: .entropy, temperature: 0), recordHistory: true)[0]
        let cold = try sampler.sample([canvas], parameters: SamplingParameters(steps: 4, algorithm: .entropy, algorithmTemperature: 1e-6, temperature: 0), recordHistory: true)[0]
        #expect(cold.history == topK.history)
        var orders: Set<[[TokenID]]> = []
        for seed in 0..<6 as Range<UInt64> {
            let hot = try sampler.sample([canvas], parameters: SamplingParameters(steps: 4, algorithm: .entropy, algorithmTemperature: 100, temperature: 0, seed: seed), recordHistory: true)[0]
            orders.insert(try #require(hot.history))
        }
        #expect(orders.count > 1)
    }

    @Test func originCommitsEachPositionWithTheGridProbability() throws {
        let sampler = DiffusionSampler(model: model)
        var totalFirstStep = 0
        let runs = 200
        for seed in 0..<UInt64(runs) {
            let p = SamplingParameters(steps: 4, algorithm: .origin, seed: seed)
            let r = try sampler.sample([infillCanvas("x", 20)], parameters: p, recordHistory: true)[0]
            let perStep = committedPerStep(try #require(r.history))
            #expect(perStep.reduce(0, +) == 20)
            #expect(r.steps <= 4 && perStep.count == r.steps)
            #expect(r.forwardPasses <= 4)
            totalFirstStep += perStep[0]
        }
        // 1 − s/t at step 0 of 4 with eps 1e-3 ≈ 0.25: about 5 of 20 positions.
        let mean = Double(totalFirstStep) / Double(runs)
        #expect(abs(mean - 20 * 0.24975) < 0.6, "mean first-step commits \(mean)")
    }

    @Test func originSkipsTheForwardPassWhenNothingIsDrawn() throws {
        // 2 masks over 50 steps: most steps draw nothing and must cost no forward pass.
        let recording = RecordingModel(model)
        let p = SamplingParameters(steps: 50, algorithm: .origin, seed: 1)
        let r = try DiffusionSampler(model: recording).sample([infillCanvas("x", 2)], parameters: p)[0]
        // Steps go on until both masks are drawn; only steps that draw something run the model.
        #expect(r.steps > 2)
        #expect(r.forwardPasses <= 2)
        #expect(r.forwardPasses == recording.forwardPasses)
    }

    @Test func defaultStepsAreOnePerMask() throws {
        let r = try DiffusionSampler(model: model).sample([infillCanvas("x", 6)], parameters: SamplingParameters(algorithm: .entropy))[0]
        #expect(r.steps == 6 && r.forwardPasses == 6)
    }

    @Test func blocksAreFinishedInOrder() throws {
        let sampler = DiffusionSampler(model: model)
        for algorithm in everyAlgorithm {
            let canvas = infillCanvas("ab", 12, "cd")
            let p = SamplingParameters(steps: 6, algorithm: algorithm, blockLength: 4, temperature: 0.5, seed: 3)
            let r = try sampler.sample([canvas], parameters: p, recordHistory: true)[0]
            let history = try #require(r.history)
            let blocks = [2..<6, 6..<10, 10..<14]
            for state in history {
                // A later block may only hold tokens once every earlier block is complete.
                for b in 1..<blocks.count where blocks[b].contains(where: { state[$0] != mask }) {
                    #expect(blocks[..<b].allSatisfy { $0.allSatisfy { state[$0] != mask } }, "\(algorithm)")
                }
            }
            #expect(r.steps <= 6)
            #expect(!r.canvasTokens.contains(mask))
        }
    }

    @Test func blocksAskForLogitsOnlyInTheCurrentBlock() throws {
        let recording = RecordingModel(model)
        let p = SamplingParameters(steps: 8, algorithm: .entropy, blockLength: 4)
        _ = try DiffusionSampler(model: recording).sample([infillCanvas("ab", 8)], parameters: p)
        for batch in recording.batches {
            let positions = batch[0].positions
            #expect(positions.allSatisfy { (2..<6).contains($0) } || positions.allSatisfy { (6..<10).contains($0) })
        }
    }

    @Test func thresholdNeedsFewerForwardPassesOnAConfidentModel() throws {
        let confident = ScriptedModel.echoing("the quick brown fox jumps over the lazy dog ")
        let sampler = DiffusionSampler(model: confident)
        let canvas = infillCanvas("", 32)
        let fixed = try sampler.sample([canvas], parameters: SamplingParameters(steps: 32, algorithm: .lowConfidence))[0]
        let fast = try sampler.sample([canvas], parameters: SamplingParameters(steps: 32, algorithm: .lowConfidence, threshold: 0.9))[0]
        #expect(fixed.forwardPasses == 32)
        #expect(fast.forwardPasses < fixed.forwardPasses)
        #expect(fast.forwardPasses == 1)
        #expect(fast.tokens == fixed.tokens)
        #expect(bytes.decode(fast.gapTokens[0]) == "the quick brown fox jumps over t")
    }

    @Test(arguments: everyAlgorithm)
    func thresholdCommitsAtLeastOnePerStepOnAnUnsureModel(algorithm: RemaskingAlgorithm) throws {
        let unsure = HashedLogitsModel(salt: 2, scale: 0.5)
        let p = SamplingParameters(steps: 10, algorithm: algorithm, threshold: 0.99, seed: 4)
        let r = try DiffusionSampler(model: unsure).sample([infillCanvas("a", 10)], parameters: p, recordHistory: true)[0]
        let perStep = committedPerStep(try #require(r.history))
        #expect(perStep.reduce(0, +) == 10)
        #expect(r.steps <= 10)
        if algorithm != .origin { #expect(perStep.allSatisfy { $0 >= 1 }) }
    }

    @Test func logitsAreRequestedOnlyAtMaskedPositions() throws {
        for algorithm in everyAlgorithm {
            let recording = RecordingModel(model)
            let canvas = Canvas(segments: [
                .context(bytes.encode("one ")), .gap(length: 5, GapConstraints(keywords: [bytes.encode("kw")])),
                .context(bytes.encode(" two ")), .gap(length: 4, GapConstraints()),
            ], maskTokenID: mask)
            let p = SamplingParameters(steps: 4, algorithm: algorithm, seed: 2)
            let r = try DiffusionSampler(model: recording).sample([canvas], parameters: p)[0]
            #expect(r.forwardPasses == recording.forwardPasses)
            for batch in recording.batches {
                for request in batch {
                    #expect(!request.positions.isEmpty)
                    #expect(request.positions.allSatisfy { request.tokens[$0] == mask })
                }
            }
        }
    }
}

@Suite struct SamplerBenchmarkTests {
    @Test func measuresForwardPassesPerTokenForEveryAlgorithm() throws {
        let model = ScriptedModel.echoing("benchmark text ")
        let canvas = SamplerBenchmark.standardCanvas(tokenizer: ByteTokenizer(), maskTokenID: mask, gapLength: 16)
        let entries = try SamplerBenchmark(model: model).run(canvas: canvas, parameters: SamplingParameters(steps: 16))
        #expect(entries.count == RemaskingAlgorithm.allCases.count * 2)
        for e in entries where e.threshold == nil && e.algorithm != .origin {
            #expect(e.forwardPassesPerToken == 1)
        }
        for e in entries where e.threshold != nil {
            #expect(e.forwardPasses == 1)
        }
        let figures = SamplerBenchmark.figures(entries)
        #expect(figures["entropy_forward_passes_per_token"] == 1)
        #expect(figures["entropy_t0.9_forward_passes_per_token"] == 1.0 / 16)
    }
}
