@testable import InfillSampling
import Testing

@Suite struct StepScheduleTests {
    func counts(masks: Int, steps: Int, eps: Float = 1e-3) -> [Int] {
        var left = masks
        var out: [Int] = []
        for i in 0..<steps where left > 0 {
            let k = StepSchedule.count(masked: left, step: i, of: steps, eps: eps)
            out.append(k)
            left -= k
        }
        return out
    }

    @Test func remainderIsSpreadOverTheFirstSteps() {
        #expect(counts(masks: 10, steps: 3) == [4, 3, 3])
        #expect(counts(masks: 7, steps: 7) == [1, 1, 1, 1, 1, 1, 1])
        #expect(counts(masks: 64, steps: 64) == Array(repeating: 1, count: 64))
        #expect(counts(masks: 512, steps: 512) == Array(repeating: 1, count: 512))
        #expect(counts(masks: 9, steps: 4) == [3, 2, 2, 2])
        #expect(counts(masks: 1, steps: 1) == [1])
    }

    @Test func neverCommitsNothingAndNeverExceedsTheSteps() {
        for masks in 1...40 {
            for steps in 1...40 {
                let c = counts(masks: masks, steps: steps)
                #expect(c.reduce(0, +) == masks)
                #expect(c.allSatisfy { $0 >= 1 })
                #expect(c.count == min(masks, steps))
                #expect((c.max() ?? 0) - (c.min() ?? 0) <= 1 || steps < 3, "masks \(masks) steps \(steps): \(c)")
            }
        }
    }

    @Test func originProbabilityFollowsTheTimeGrid() {
        // t = linspace(1, eps, steps+1); step 0 of 4 with eps 0: 1 - 0.75/1.
        #expect(abs(StepSchedule.originProbability(step: 0, of: 4, eps: 1e-9) - 0.25) < 1e-6)
        #expect(abs(StepSchedule.originProbability(step: 2, of: 4, eps: 1e-9) - 0.5) < 1e-6)
        #expect(StepSchedule.originProbability(step: 3, of: 4, eps: 1e-3) == 1)
    }

    @Test func stepsAreSplitOverBlocks() {
        #expect(StepSchedule.split(steps: 10, blocks: 3) == [4, 3, 3])
        #expect(StepSchedule.split(steps: 2, blocks: 4) == [1, 1, 1, 1])
    }
}
