import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Testing

@Suite struct DeterminismTests {
    let model = HashedLogitsModel(salt: 21, scale: 2)

    func canvases() -> [Canvas] {
        [
            infillCanvas("first ", 10, " end", constraints: GapConstraints(keywords: [bytes.encode("kw")]), seed: 1),
            infillCanvas("a much longer second prompt ", 17, "", constraints: GapConstraints(allowsNullTail: true, minTokens: 2)),
            infillCanvas("3", 4, "!", seed: 99),
        ]
    }

    @Test(arguments: everyAlgorithm)
    func aBatchEqualsTheCanvasesOneByOne(algorithm: RemaskingAlgorithm) throws {
        let sampler = DiffusionSampler(model: model)
        let p = SamplingParameters(steps: 5, algorithm: algorithm, temperature: 1, topP: 0.9, topK: 40, seed: 7)
        let batch = try sampler.sample(canvases(), parameters: p)
        for (i, canvas) in canvases().enumerated() {
            let single = try sampler.sample([canvas], parameters: p)[0]
            #expect(batch[i].canvasTokens == single.canvasTokens)
            #expect(batch[i].steps == single.steps)
            #expect(batch[i].forwardPasses == single.forwardPasses)
            #expect(batch[i].keywordOffsets == single.keywordOffsets)
        }
    }

    @Test func aBatchSharesEachForwardPass() throws {
        let recording = RecordingModel(model)
        let p = SamplingParameters(steps: 5, algorithm: .entropy, seed: 7)
        let results = try DiffusionSampler(model: recording).sample(canvases(), parameters: p)
        // One keyword round (canvas 0 only), then 5 steps shared by all three.
        #expect(recording.forwardPasses == 6)
        // Canvas 2 (4 masks) is done after 4 steps.
        #expect(recording.batches.map(\.count) == [1, 3, 3, 3, 3, 2])
        #expect(results.map(\.forwardPasses) == [6, 5, 4])
    }

    @Test(arguments: everyAlgorithm)
    func seedsReproduce(algorithm: RemaskingAlgorithm) throws {
        let sampler = DiffusionSampler(model: model)
        var outputs: Set<[TokenID]> = []
        for seed in 0..<4 as Range<UInt64> {
            let p = SamplingParameters(steps: 6, algorithm: algorithm, algorithmTemperature: 0.3, temperature: 1, seed: seed)
            let a = try sampler.sample([infillCanvas("x", 12)], parameters: p)[0]
            let b = try sampler.sample([infillCanvas("x", 12)], parameters: p)[0]
            #expect(a.canvasTokens == b.canvasTokens)
            outputs.insert(a.canvasTokens)
        }
        #expect(outputs.count > 1, "different seeds should give different fills")
    }

    @Test func historyAndProgressReportEveryStep() throws {
        var reports: [SamplingProgress] = []
        let p = SamplingParameters(steps: 4, algorithm: .maskgitPlus)
        let r = try DiffusionSampler(model: model).sample([infillCanvas("x", 8)], parameters: p, recordHistory: true) {
            reports.append($0)
        }[0]
        #expect(reports.map(\.step) == [1, 2, 3, 4])
        #expect(reports.map(\.masksLeft) == [6, 4, 2, 0])
        #expect(reports.map(\.forwardPasses) == [1, 2, 3, 4])
        #expect(reports.allSatisfy { $0.totalSteps == 4 })
        #expect(r.history?.count == 5)
        #expect(r.history?.last == r.canvasTokens)
    }

    @Test func cancellationStopsBetweenSteps() async throws {
        let task = Task {
            var seen = 0
            _ = try DiffusionSampler(model: model).sample([infillCanvas("x", 8)], parameters: SamplingParameters(steps: 8)) { _ in
                seen += 1
                if seen == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return seen
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func aCanvasWithoutMasksIsReturnedUnchanged() throws {
        let canvas = Canvas(tokens: bytes.encode("done"))
        let r = try DiffusionSampler(model: model).sample([canvas])[0]
        #expect(r.tokens == canvas.tokens && r.steps == 0 && r.forwardPasses == 0)
    }
}
