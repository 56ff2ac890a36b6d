import Foundation
import InfillDocuments
import Synchronization

/// The sampler steps of one `infill fill`, recorded for the `--html` page's player: which fields
/// each step worked on, the step count, forward passes and the time.
final class FillTimeline: Sendable {
    /// One recorded step.
    struct Event: Sendable, Equatable {
        var fields: [String]
        var fieldsDone: Int
        var fieldsTotal: Int
        var step: Int
        var totalSteps: Int
        var forwardPasses: Int
        var seconds: Double
    }

    private let started = ContinuousClock.now
    private let recorded = Mutex<[Event]>([])

    /// Records one progress report.
    func record(_ progress: FillProgress) {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let event = Event(
            fields: progress.fields, fieldsDone: progress.fieldsDone, fieldsTotal: progress.fieldsTotal,
            step: progress.step, totalSteps: progress.totalSteps, forwardPasses: progress.forwardPasses, seconds: seconds)
        recorded.withLock { $0.append(event) }
    }

    var events: [Event] { recorded.withLock { $0 } }
}
