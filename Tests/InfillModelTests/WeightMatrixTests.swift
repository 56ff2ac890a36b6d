import Foundation
import Testing
@testable import InfillModel

/// Weights kept in their stored encoding give the fp32 results: tiled projections, fused
/// segments, row lookups, and whole models loaded both ways.
@Suite struct WeightMatrixTests {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float(Int(generator.next() % 2001) - 1000) / 1000 }
    }

    /// BF16 bytes of `values` (truncated), and the values they decode to.
    static func bf16(_ values: [Float]) -> (bytes: [UInt8], decoded: [Float]) {
        var bytes: [UInt8] = []
        var decoded: [Float] = []
        for v in values {
            let bits = UInt16(v.bitPattern >> 16)
            bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
            decoded.append(Float(bitPattern: UInt32(bits) << 16))
        }
        return (bytes, decoded)
    }

    @Test func tiledStoredProjectionEqualsDense() throws {
        let columns = 256, first = 700, second = 650, n = 5
        // Three tiles of 512 rows over two segments of different encodings (F32, BF16).
        #expect(WeightMatrix.tileRows(columns: columns) == 512)
        let a = Self.random(first * columns, seed: 1)
        let (bytes, b) = Self.bf16(Self.random(second * columns, seed: 2))
        let owned = OwnedBytes(count: bytes.count)
        bytes.withUnsafeBytes { owned.pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        let bf16Rows = StoredRows(owner: owned, bytes: owned.buffer, type: .bf16, rows: second, columns: columns)
        let stored = WeightMatrix(stacking: [StoredRows.copying(a, rows: first, columns: columns), bf16Rows])
        let dense = WeightMatrix(rows: first + second, columns: columns, values: a + b)
        #expect(stored.isStored && !dense.isStored && stored.rows == dense.rows)
        #expect(stored.rowValues(first + 3) == Array(b[(3 * columns)..<(4 * columns)]))

        let inputStride = columns + 7, outputStride = first + second + 3
        let x = Self.random(n * inputStride, seed: 3)
        let start = Self.random(n * outputStride, seed: 4)
        for accumulate in [false, true] {
            for threads in [1, 2] {
                var expected = start, actual = start
                let tile = UnsafeMutablePointer<Float>.allocate(capacity: stored.tileCapacity)
                defer { tile.deallocate() }
                x.withUnsafeBufferPointer { xp in
                    expected.withUnsafeMutableBufferPointer { y in
                        dense.linear(xp.baseAddress!, rows: n, inputStride: inputStride, into: y.baseAddress!, outputStride: outputStride,
                                     accumulate: accumulate, tile: tile, threads: 1)
                    }
                    actual.withUnsafeMutableBufferPointer { y in
                        stored.linear(xp.baseAddress!, rows: n, inputStride: inputStride, into: y.baseAddress!, outputStride: outputStride,
                                      accumulate: accumulate, tile: tile, threads: threads)
                    }
                }
                let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? .infinity
                #expect(worst < 1e-3, "accumulate \(accumulate), threads \(threads): \(worst)")
                // The padding columns of each output row are never written.
                for r in 0..<n {
                    #expect(actual[r * outputStride + first + second] == start[r * outputStride + first + second])
                }
            }
        }
    }

    @Test(arguments: ["tiny-dream", "tiny-llada", "tiny-dream.gguf", "tiny-llada.gguf", "tiny-llama-q4_1.gguf", "tiny-qwen2"])
    func storedModelsGiveTheFP32Logits(model: String) throws {
        func load(_ storage: WeightStorage) throws -> ModelLoader.Result {
            model.hasSuffix(".gguf")
                ? try ModelLoader.loadGGUF(path: EngineFixtures.path(model), adapterFolder: nil, name: nil, available: nil, storage: storage)
                : try ModelLoader.loadHF(folder: EngineFixtures.path(model), available: nil, storage: storage)
        }
        let fp32 = try load(.fp32), stored = try load(.stored)
        #expect(!fp32.model.transformer.weights.isStored && stored.model.transformer.weights.isStored)
        #expect(stored.description.weightStorage == .stored)
        #expect(stored.description.weightBytes < fp32.description.weightBytes)
        let tokens: [TokenID] = [5, 17, 42, 99, 3, 250, 7, 8, 120]
        let rows = [0, 4, 8]
        for attention in AttentionMode.allCases {
            let a = try fp32.model.transformer.logits(sequences: [tokens], outputRows: [rows], attention: attention)[0]
            let b = try stored.model.transformer.logits(sequences: [tokens], outputRows: [rows], attention: attention)[0]
            let worst = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-4, "\(model) \(attention): \(worst)")
        }
        // The cached path reads the same stored matrices.
        let cache = KVCache()
        _ = try stored.model.predict([PredictionRequest(tokens: tokens, positions: rows)], recordingInto: [cache])
        let cached = try stored.model.predict([PredictionRequest(tokens: tokens, positions: [4])], recomputing: [[4]], caches: [cache])[0]
        let full = try fp32.model.predict([PredictionRequest(tokens: tokens, positions: [4])])[0]
        #expect((zip(cached.values, full.values).map { abs($0 - $1) }.max() ?? .infinity) < 1e-3)
    }

    @Test func smallModelsStayFP32AndTheChoiceCanBeForced() throws {
        let config = try HFModelReader(folder: EngineFixtures.path("tiny-dream")).config
        #expect(try WeightStorage.choose(for: config, environment: [:]) == .fp32)
        #expect(try WeightStorage.choose(for: config, environment: ["INFILL_WEIGHTS": "stored"]) == .stored)
        var big = config
        big.layerCount = 28
        big.hiddenSize = 3584
        big.intermediateSize = 18944
        big.vocabularySize = 152_064
        #expect(try WeightStorage.choose(for: big, environment: [:]) == .stored)
        #expect(throws: ModelFileError.self) { try WeightStorage.choose(for: config, environment: ["INFILL_WEIGHTS": "fp16"]) }
    }
}
