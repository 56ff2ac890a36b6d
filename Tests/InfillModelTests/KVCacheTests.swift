import Foundation
import Testing
@testable import InfillModel

/// The approximate KV cache: recomputing some rows against a fresh cache reproduces the full pass.
@Suite struct KVCacheTests {
    static let model = BatchedForwardTests.model

    @Test(arguments: AttentionMode.allCases)
    func recomputedRowsMatchTheFullPassRightAfterRecording(mode: AttentionMode) throws {
        let t = Self.model.model.transformer
        let sequences: [[TokenID]] = [(0..<40).map { TokenID(($0 * 31 + 7) % 400) }, (0..<23).map { TokenID(($0 * 17 + 3) % 400) }]
        let caches = [KVCache(), KVCache()]
        let out = [[12, 13, 14, 30], [0, 5, 22]]
        let full = try t.logits(sequences: sequences, outputRows: out, attention: mode, recordingInto: caches)
        let rows = [[11, 12, 13, 14, 15, 30], [0, 5, 22]]
        let cached = try t.cachedLogits(sequences: sequences, rows: rows, outputRows: out, caches: caches, attention: mode)
        for i in sequences.indices {
            #expect(EngineFixtures.relativeError(cached[i].values, full[i].values) < 1e-4)
        }
    }

    @Test func afterChangingTheBlockTheCachedPassUsesTheNewTokensAndStaleContext() throws {
        let t = Self.model.model.transformer
        var tokens: [TokenID] = (0..<32).map { TokenID(($0 * 13 + 5) % 400) }
        let cache = KVCache()
        _ = try t.logits(sequences: [tokens], outputRows: [[0]], attention: .bidirectional, recordingInto: [cache])
        let block = [16, 17, 18, 19]
        for p in block { tokens[p] = TokenID((p * 7) % 400) }
        let cached = try t.cachedLogits(sequences: [tokens], rows: [block], outputRows: [[17]], caches: [cache],
                                        attention: .bidirectional)[0]
        let exact = try t.logits(sequences: [tokens], outputRows: [[17]], attention: .bidirectional)[0]
        // Close to the exact pass (only the context's keys are stale) but not bit-equal to it.
        #expect(EngineFixtures.relativeError(cached.values, exact.values) < 0.5)
        // A refresh makes the cached pass exact again.
        _ = try t.logits(sequences: [tokens], outputRows: [[0]], attention: .bidirectional, recordingInto: [cache])
        let refreshed = try t.cachedLogits(sequences: [tokens], rows: [block], outputRows: [[17]], caches: [cache],
                                           attention: .bidirectional)[0]
        #expect(EngineFixtures.relativeError(refreshed.values, exact.values) < 1e-4)
    }

    @Test func theModelAddsTheShiftRowAndRefusesAStaleCache() throws {
        let m = Self.model.model
        let tokens: [TokenID] = (0..<20).map { TokenID(($0 * 11 + 1) % 400) }
        let request = PredictionRequest(tokens: tokens, positions: [8, 9])
        let cache = KVCache()
        let full = try m.predict([request], recordingInto: [cache])[0]
        // Recomputing only 8 and 9: the model adds row 7 for position 8 under the logit shift.
        let cached = try m.predict([request], recomputing: [[8, 9]], caches: [cache])[0]
        #expect(EngineFixtures.relativeError(cached.values, full.values) < 1e-4)
        let longer = PredictionRequest(tokens: tokens + [1], positions: [8])
        #expect(throws: ForwardError.self) { try m.predict([longer], recomputing: [[8]], caches: [cache]) }
    }
}
