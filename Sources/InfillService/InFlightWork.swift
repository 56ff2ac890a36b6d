import Foundation
import Synchronization

/// One piece of blocking work (filling a document) on its own thread, which the daemon can give
/// up on: ``abandon(_:)`` makes ``run(_:)`` return nil at once, and the thread's late result is
/// dropped. The work sees ``isWanted`` turn false and may stop early.
///
/// The work runs on a dedicated thread rather than in Swift's cooperative pool, whose few threads
/// (one per core) must stay free for the watcher, signals and status updates while documents are
/// being filled.
public final class InFlightWork<Result: Sendable>: Sendable {
    /// Why the daemon gave up on the work.
    public enum AbandonReason: Sendable, Equatable {
        /// The stop timeout ran out during shutdown.
        case shutdown
        /// The document's own deadline (`document_timeout_s`) passed.
        case deadline
    }

    private enum State {
        case idle
        case waiting(CheckedContinuation<Result?, Never>)
        case finished
        case abandoned(AbandonReason)
    }

    private let state = Mutex<State>(.idle)

    public init() {}

    /// Runs `body` on a new thread and returns its result, or nil when abandoned first.
    public func run(_ body: @escaping @Sendable () -> Result) async -> Result? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
            let installed = state.withLock { state -> Bool in
                if case .abandoned = state { return false }
                state = .waiting(continuation)
                return true
            }
            guard installed else {
                continuation.resume(returning: nil)
                return
            }
            let thread = Thread { [self] in
                let result = body()
                let waiting = state.withLock { state -> CheckedContinuation<Result?, Never>? in
                    guard case .waiting(let continuation) = state else { return nil }
                    state = .finished
                    return continuation
                }
                waiting?.resume(returning: result)
            }
            thread.name = "infill-worker"
            thread.stackSize = 16 << 20
            thread.start()
        }
    }

    /// Gives up on the work unless it already finished (or was given up); true when it was given up.
    @discardableResult
    public func abandon(_ reason: AbandonReason = .shutdown) -> Bool {
        let (abandoned, waiting) = state.withLock { state -> (Bool, CheckedContinuation<Result?, Never>?) in
            switch state {
            case .idle:
                state = .abandoned(reason)
                return (true, nil)
            case .waiting(let continuation):
                state = .abandoned(reason)
                return (true, continuation)
            case .finished, .abandoned:
                return (false, nil)
            }
        }
        waiting?.resume(returning: nil)
        return abandoned
    }

    /// False once abandoned: the work may stop early.
    public var isWanted: Bool { abandonReason == nil }

    /// Why the work was given up, or nil while it is wanted.
    public var abandonReason: AbandonReason? {
        state.withLock { state in
            if case .abandoned(let reason) = state { return reason }
            return nil
        }
    }
}
