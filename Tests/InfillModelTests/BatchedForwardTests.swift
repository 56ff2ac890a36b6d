import Foundation
import Testing
@testable import InfillModel

/// Batches, key padding, logit shift and input validation of the forward pass.
@Suite struct BatchedForwardTests {
    static let model = try! ModelLoader.loadGGUF(path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: nil, name: nil)

    @Test(arguments: AttentionMode.allCases)
    func batchEqualsSequencesOneByOne(mode: AttentionMode) throws {
        let t = Self.model.model.transformer
        let sequences: [[TokenID]] = [[5, 9, 200, 17, 3, 3, 42], [7, 8], [300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310]]
        let rows = [[0, 3, 6], [1], [10, 2, 5]]
        let batched = try t.logits(sequences: sequences, outputRows: rows, attention: mode)
        for i in sequences.indices {
            let single = try t.logits(sequences: [sequences[i]], outputRows: [rows[i]], attention: mode)[0]
            #expect(EngineFixtures.relativeError(batched[i].values, single.values) < 1e-5)
        }
    }

    @Test func causalOutputsIgnoreLaterTokensAndBidirectionalOnesDoNot() throws {
        let t = Self.model.model.transformer
        let a: [TokenID] = [10, 20, 30, 40, 50], b: [TokenID] = [10, 20, 30, 99, 98]
        let causal = try t.logits(sequences: [a, b], outputRows: [[2], [2]], attention: .causal)
        #expect(EngineFixtures.relativeError(causal[0].values, causal[1].values) < 1e-6)
        let full = try t.logits(sequences: [a, b], outputRows: [[2], [2]], attention: .bidirectional)
        #expect(EngineFixtures.relativeError(full[0].values, full[1].values) > 1e-3)
    }

    @Test func longCanvasAttentionInRowBlocksMatchesAShortRun() throws {
        // 2 query heads per key/value head × 500 rows spans several score blocks; causal outputs of
        // the first 300 positions must equal those of the 300-token prefix run in one block.
        var config = Self.model.model.transformer.config
        config.contextLength = 1024
        let t = Transformer(config: config, weights: Self.model.model.transformer.weights)
        let tokens = (0..<500).map { TokenID(($0 * 37 + 11) % 400) }
        let rows = [0, 150, 280, 299]
        let long = try t.logits(sequences: [tokens], outputRows: [rows], attention: .causal)[0]
        let short = try t.logits(sequences: [Array(tokens[0..<300])], outputRows: [rows], attention: .causal)[0]
        #expect(EngineFixtures.relativeError(long.values, short.values) < 1e-5)
        let bidirectional = try t.logits(sequences: [tokens], outputRows: [[499]], attention: .bidirectional)[0]
        #expect(bidirectional.values.allSatisfy { $0.isFinite })
    }

    @Test func concurrentWorkersGetTheSameLogits() async throws {
        let m = Self.model.model
        let requests = (0..<8).map { k in
            PredictionRequest(tokens: (0..<(20 + k * 7)).map { TokenID(($0 * 13 + k) % 400) }, positions: [3, 10, 19])
        }
        let serial = try requests.map { try m.predict([$0])[0] }
        let parallel = try await withThrowingTaskGroup(of: (Int, LogitMatrix).self) { group in
            for (k, request) in requests.enumerated() {
                group.addTask { (k, try m.predict([request])[0]) }
            }
            var results = [LogitMatrix?](repeating: nil, count: requests.count)
            for try await (k, logits) in group { results[k] = logits }
            return results
        }
        for k in requests.indices {
            // BLAS may split work differently under concurrency: equal up to summation order.
            #expect(EngineFixtures.relativeError(parallel[k]?.values ?? [], serial[k].values) < 1e-5)
        }
    }

    @Test func predictAppliesTheLogitShift() throws {
        let m = Self.model.model
        #expect(m.logitShift)
        #expect(m.maskTokenID == 3 && m.nullTokenID == 0)
        let tokens: [TokenID] = [11, 12, 3, 3, 15, 16]
        let predicted = try m.predict([PredictionRequest(tokens: tokens, positions: [0, 2, 3])])[0]
        let raw = try m.transformer.logits(sequences: [tokens], outputRows: [[0, 1, 2]], attention: .bidirectional)[0]
        #expect(predicted.values == raw.values)
        let unshifted = TransformerModel(
            transformer: m.transformer, attention: .bidirectional, logitShift: false, maskTokenID: 3, nullTokenID: 0)
        let direct = try unshifted.predict([PredictionRequest(tokens: tokens, positions: [2])])[0]
        let rawDirect = try m.transformer.logits(sequences: [tokens], outputRows: [[2]], attention: .bidirectional)[0]
        #expect(direct.values == rawDirect.values)
        #expect(try m.predict([]).isEmpty)
        let none = try m.predict([PredictionRequest(tokens: tokens, positions: [])])
        #expect(none[0].rows == 0)
    }

    @Test func invalidInputThrows() {
        let m = Self.model.model
        #expect(throws: ForwardError.tokenOutOfRange(index: 0, position: 1, token: 400, vocabularySize: 400)) {
            try m.predict([PredictionRequest(tokens: [1, 400], positions: [1])])
        }
        #expect(throws: ForwardError.positionOutOfRange(index: 0, position: 2, length: 2)) {
            try m.predict([PredictionRequest(tokens: [1, 2], positions: [2])])
        }
        #expect(throws: ForwardError.emptySequence(index: 1)) {
            try m.predict([PredictionRequest(tokens: [1], positions: [0]), PredictionRequest(tokens: [], positions: [])])
        }
        #expect(throws: ForwardError.self) {
            try m.predict([PredictionRequest(tokens: [TokenID](repeating: 5, count: 257), positions: [0])])
        }
    }

    @Test func fastExpIsAccurate() {
        for x in stride(from: Float(-80), through: 80, by: 0.37) {
            let exact = Float(exp(Double(x)))
            #expect(abs(FastMath.exp(x) - exact) <= exact * 3e-7)
        }
        #expect(FastMath.exp(-1000) >= 0 && FastMath.exp(-1000) < 1e-37)
    }
}
