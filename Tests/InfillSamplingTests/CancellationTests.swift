import InfillModel
import InfillModelTestKit
@testable import InfillSampling
import Synchronization
import Testing

/// A caller that runs the sampler on a plain thread can still stop it between steps.
@Suite struct CancellationTests {
    @Test func shouldContinueStopsTheRunBetweenSteps() throws {
        let model = RecordingModel(HashedLogitsModel(salt: 2))
        let asked = Mutex(0)
        #expect(throws: CancellationError.self) {
            _ = try DiffusionSampler(model: model).sample(
                [infillCanvas("ab", 12)], parameters: SamplingParameters(temperature: 0.5),
                shouldContinue: { asked.withLock { $0 += 1; return $0 <= 3 } })
        }
        #expect(model.forwardPasses == 3)
    }
}
