import InfillModel
import InfillModelTestKit
@testable import InfillSampling

let mask = ByteTokenizer.mask
let null = ByteTokenizer.endOfText
let bytes = ByteTokenizer()

/// How many masks each step of a history removed.
func committedPerStep(_ history: [[TokenID]]) -> [Int] {
    let masks = history.map { $0.filter { $0 == mask }.count }
    return zip(masks, masks.dropFirst()).map { $0 - $1 }
}

/// A canvas "prefix, n masks, suffix" over the byte tokenizer.
func infillCanvas(
    _ prefix: String, _ n: Int, _ suffix: String = "", constraints: GapConstraints = GapConstraints(),
    seed: UInt64? = nil
) -> Canvas {
    Canvas.infill(
        prefix: bytes.encode(prefix), gapLength: n, suffix: bytes.encode(suffix), maskTokenID: mask,
        constraints: constraints, seed: seed)
}

func contains(_ haystack: [TokenID], _ needle: [TokenID]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return needle.isEmpty }
    return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
}

let everyAlgorithm = RemaskingAlgorithm.allCases
