import Foundation

/// How a step picks the positions to commit among its candidates.
enum PositionSelection {
    /// Higher confidence first; ties go to the earlier position (deterministic).
    static func moreConfident(_ a: Candidate, _ b: Candidate) -> Bool {
        a.confidence > b.confidence || (a.confidence == b.confidence && a.position < b.position)
    }

    /// Dream's `alg_temp`: `count` candidates drawn without replacement, weights `softmax(conf / temperature)`.
    static func drawWeighted(
        _ candidates: [Candidate], count: Int, temperature: Float, rng: inout SeededGenerator
    ) -> [Candidate] {
        var pool = candidates
        var out: [Candidate] = []
        while out.count < count && !pool.isEmpty {
            // Weights relative to the best remaining confidence, so a cold alg_temp never underflows
            // to all zeros (drawing without replacement is unchanged by that shift).
            let top = Double(pool.map(\.confidence).max() ?? 0)
            let weights = pool.map { Foundation.exp((Double($0.confidence) - top) / Double(temperature)) }
            let total = weights.reduce(0, +)
            var pick = weights.firstIndex(of: 1) ?? 0
            let u = rng.nextUnit() * total
            var acc = 0.0
            for j in weights.indices {
                acc += weights[j]
                if u < acc { pick = j; break }
            }
            out.append(pool.remove(at: pick))
        }
        return out
    }
}
