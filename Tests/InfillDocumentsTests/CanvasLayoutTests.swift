import InfillModelTestKit
import Testing
@testable import InfillDocuments

/// A unit's later attempts reuse the tokenised document and change only the gaps.
@Suite struct CanvasLayoutTests {
    @Test func rebudgetedMatchesABuildWithTheNewBudgets() throws {
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose()), library: .empty)
        let text = "Intro text. {{a | words: 2-4}} middle {{b | words: 3-5}} end.\n"
        let plan = try DocumentFiller.plan(name: "t.md", contents: Array(text.utf8), library: .empty)
        var compiled: [Int: CompiledField] = [:]
        for (i, field) in try filler.compile(plan).enumerated() { compiled[i] = field }
        var retuned = compiled
        retuned[0]?.budget.maskTokens += 7
        retuned[0]?.constraints.minTokens = 3
        let tokenizer = filler.model.tokenizer
        let first = CanvasLayout.build(plan: plan, unit: [0, 1], filled: [:], compiled: compiled, tokenizer: tokenizer)
        let rebuilt = CanvasLayout.build(plan: plan, unit: [0, 1], filled: [:], compiled: retuned, tokenizer: tokenizer)
        let reused = first.rebudgeted(retuned)
        #expect(reused.canvas(maskTokenID: 0, startTokenID: nil, seed: 1) == rebuilt.canvas(maskTokenID: 0, startTokenID: nil, seed: 1))
        #expect(reused.length == first.length + 7)
    }
}
