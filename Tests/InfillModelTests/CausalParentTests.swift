import Foundation
import Testing
@testable import InfillModel

/// The causal parent grows one cache per sequence and matches a full causal pass.
@Suite struct CausalParentTests {
    static let transformer = BatchedForwardTests.model.model.transformer

    @Test func growingPrefixesMatchTheFullCausalPass() throws {
        let parent = CausalParent(transformer: Self.transformer)
        let sequence: [TokenID] = (0..<30).map { TokenID(($0 * 37 + 11) % 400) }
        let other: [TokenID] = (0..<20).map { TokenID(($0 * 13 + 2) % 400) }
        let caches = [KVCache(), KVCache()]
        // Lengths grow by one, by several, and not at all; the second sequence is batched alongside.
        for (n, m) in [(5, 3), (6, 9), (11, 9), (24, 20)] {
            let got = try parent.nextTokenLogits(after: [Array(sequence[..<n]), Array(other[..<m])], caches: caches)
            let full = try Self.transformer.logits(
                sequences: [Array(sequence[..<n]), Array(other[..<m])], outputRows: [[n - 1], [m - 1]], attention: .causal)
            for i in 0..<2 {
                #expect(got[i].rows == 1)
                #expect(EngineFixtures.relativeError(got[i].values, full[i].values) < 1e-4, "lengths \(n), \(m)")
            }
        }
        #expect(caches[0].length == 24)
    }

    @Test func anAdapterModelsParentIsTheBaseWithoutTheAdapter() throws {
        let plain = try ModelLoader.loadGGUF(path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: nil, name: nil)
        #expect(plain.loaded.parent == nil)
        let adapted = try ModelLoader.loadGGUF(
            path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: EngineFixtures.path("tiny-adapter"), name: nil)
        let parent = try #require(adapted.loaded.parent)
        let tokens: [TokenID] = [3, 99, 14, 250, 7, 61]
        let got = try parent.nextTokenLogits(after: [tokens], caches: [KVCache()])[0]
        let base = try plain.model.transformer.logits(sequences: [tokens], outputRows: [[5]], attention: .causal)[0]
        let merged = try adapted.model.transformer.logits(sequences: [tokens], outputRows: [[5]], attention: .causal)[0]
        #expect(EngineFixtures.relativeError(got.values, base.values) < 1e-5)
        #expect(EngineFixtures.relativeError(got.values, merged.values) > 1e-3)
    }

    /// A struct that asks next-token queries only, so it takes the protocol's per-position `tokenNLLs`.
    struct QueriesOnly: ParentModel {
        let inner: CausalParent
        var logitWidth: Int { inner.logitWidth }
        var maxSequenceLength: Int { inner.maxSequenceLength }
        func nextTokenLogits(after prefixes: [[TokenID]], caches: [KVCache]) throws -> [LogitMatrix] {
            try inner.nextTokenLogits(after: prefixes, caches: caches)
        }
    }

    @Test func oneCausalPassScoresLikeOneQueryPerPosition() throws {
        let parent = CausalParent(transformer: Self.transformer)
        let sequence: [TokenID] = (0..<25).map { TokenID(($0 * 53 + 5) % 400) }
        let fast = try parent.tokenNLLs(of: sequence, from: 10)
        let slow = try QueriesOnly(inner: parent).tokenNLLs(of: sequence, from: 10)
        #expect(fast.count == 15)
        #expect(zip(fast, slow).allSatisfy { abs($0 - $1) < 1e-3 * max(1, abs($1)) }, "\(fast) vs \(slow)")
        #expect(fast.allSatisfy { $0 > 0 })
        #expect(try parent.tokenNLLs(of: sequence, from: 25).isEmpty)
    }
}
