import Foundation
import InfillModel
import Testing
@testable import InfillBench

/// The batching section measures both ways on a real transformer and reports the ratio.
@Suite struct BatchingBenchTests {
    static let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-llama.gguf").path

    @Test func bothWaysAreTimedOnTwoThreads() throws {
        let model = try ModelLoader.load(Self.tinyModel)
        let figures = try BatchingBench.run(BenchContext(model: model, threads: 2, quick: true))
        for key in ["block8", "parent1"] {
            let apart = try #require(figures["\(key)_side_by_side_seconds"]), together = try #require(figures["\(key)_batched_seconds"])
            #expect(apart > 0 && together > 0)
            #expect(abs((figures["\(key)_batched_speedup"] ?? 0) - apart / together) < 1e-9)
        }
        // One thread has nothing to compare.
        #expect(try BatchingBench.run(BenchContext(model: model, threads: 1, quick: true)).isEmpty)
    }
}
