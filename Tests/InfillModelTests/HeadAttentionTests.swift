import Foundation
import Testing
@testable import InfillModel

/// ``HeadAttention`` against a plain loop over heads and rows, on one thread and shared out.
@Suite struct HeadAttentionTests {
    /// softmax(q·kᵀ·scale) · v for every query head, written the obvious way.
    static func reference(
        queries: [Float], keys: [Float], values: [Float], rows: Int, length: Int, heads: Int, kvHeads: Int, hd: Int,
        scale: Float, causal: [Int]?
    ) -> [Float] {
        let qStride = heads * hd, kvStride = kvHeads * hd, group = heads / kvHeads
        var out = [Float](repeating: 0, count: rows * heads * hd)
        for head in 0..<heads {
            let kv = head / group
            for r in 0..<rows {
                let visible = causal.map { min(length, $0[r] + 1) } ?? length
                var scores = (0..<visible).map { j in
                    (0..<hd).reduce(Float(0)) { $0 + queries[r * qStride + head * hd + $1] * keys[j * kvStride + kv * hd + $1] } * scale
                }
                let top = scores.max() ?? 0
                scores = scores.map { Foundation.exp($0 - top) }
                let total = scores.reduce(0, +)
                for d in 0..<hd {
                    out[r * qStride + head * hd + d] = (0..<visible).reduce(Float(0)) { $0 + scores[$1] * values[$1 * kvStride + kv * hd + d] } / total
                }
            }
        }
        return out
    }

    @Test(arguments: [1, 2, 3])
    func sharedOutEqualsThePlainLoop(threads: Int) {
        // Enough rows for several slices per group (192 stacked rows each).
        let rows = 150, length = 170, heads = 6, kvHeads = 2, hd = 8
        var generator = SeededGenerator(seed: 7)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(generator.next() % 2001) - 1000) / 1000 } }
        let queries = random(rows * heads * hd), keys = random(length * kvHeads * hd), values = random(length * kvHeads * hd)
        let positions = (0..<rows).map { $0 + length - rows }
        let attention = HeadAttention(headDimension: hd, groupSize: heads / kvHeads, scale: 0.35)
        for causal in [false, true] {
            var out = [Float](repeating: .nan, count: rows * heads * hd)
            queries.withUnsafeBufferPointer { q in
                keys.withUnsafeBufferPointer { k in
                    values.withUnsafeBufferPointer { v in
                        positions.withUnsafeBufferPointer { p in
                            out.withUnsafeMutableBufferPointer { o in
                                let groups = (0..<kvHeads).map { kv in
                                    HeadAttention.Group(
                                        queries: q.baseAddress! + kv * (heads / kvHeads) * hd, queryStride: heads * hd, rows: rows,
                                        keys: k.baseAddress! + kv * hd, values: v.baseAddress! + kv * hd, keyValueStride: kvHeads * hd,
                                        length: length, output: o.baseAddress! + kv * (heads / kvHeads) * hd, outputStride: heads * hd,
                                        causalPositions: causal ? p.baseAddress : nil)
                                }
                                attention.run(groups, threads: threads)
                            }
                        }
                    }
                }
            }
            let expected = Self.reference(
                queries: queries, keys: keys, values: values, rows: rows, length: length, heads: heads, kvHeads: kvHeads, hd: hd,
                scale: 0.35, causal: causal ? positions : nil)
            let worst = zip(out, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-5, "threads \(threads), causal \(causal): \(worst)")
        }
    }

    @Test func theForwardPassIsTheSameOnOneThreadAndOnTwo() throws {
        let model = try ModelLoader.loadGGUF(path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: nil, name: nil).model
        let tokens: [TokenID] = Array(0..<40).map { TokenID(($0 * 37) % 400) }
        let saved = BLASThreads.current
        defer { BLASThreads.set(saved) }
        var results: [[Float]] = []
        for threads in [1, 2] {
            BLASThreads.set(threads)
            for attention in AttentionMode.allCases {
                results.append(try model.transformer.logits(sequences: [tokens], outputRows: [[0, 20, 39]], attention: attention)[0].values)
            }
        }
        #expect(results[0] == results[2] && results[1] == results[3])
    }
}
