import InfillModel
import Synchronization

/// Wraps a ``CachingDenoisingModel`` and records every call: full passes that record a cache and
/// cached passes with the rows they recompute, so tests can check what the sampler kept fresh.
public final class RecordingCachingModel: CachingDenoisingModel {
    /// One recorded call.
    public enum Call: Sendable, Equatable {
        /// A plain pass (no cache).
        case plain([PredictionRequest])
        /// A full pass recording the caches.
        case recording([PredictionRequest])
        /// A pass recomputing `rows` of each request against its cache.
        case recomputing([PredictionRequest], rows: [[Int]])
    }

    public let base: any CachingDenoisingModel
    private let log = Mutex<[Call]>([])

    public init(_ base: any CachingDenoisingModel) {
        self.base = base
    }

    public var logitWidth: Int { base.logitWidth }
    public var samplableVocabularySize: Int { base.samplableVocabularySize }
    public var maskTokenID: TokenID { base.maskTokenID }
    public var nullTokenID: TokenID { base.nullTokenID }
    public var startTokenID: TokenID? { base.startTokenID }
    public var maxSequenceLength: Int { base.maxSequenceLength }

    /// Every call so far, in order.
    public var calls: [Call] { log.withLock { $0 } }

    public func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix] {
        log.withLock { $0.append(.plain(requests)) }
        return try base.predict(requests)
    }

    public func predict(_ requests: [PredictionRequest], recordingInto caches: [KVCache]) throws -> [LogitMatrix] {
        log.withLock { $0.append(.recording(requests)) }
        return try base.predict(requests, recordingInto: caches)
    }

    public func predict(_ requests: [PredictionRequest], recomputing: [[Int]], caches: [KVCache]) throws -> [LogitMatrix] {
        log.withLock { $0.append(.recomputing(requests, rows: recomputing)) }
        return try base.predict(requests, recomputing: recomputing, caches: caches)
    }
}
