import InfillDiagnostics
import Testing

@Suite struct EditDistanceTests {
    @Test func countsEditsIgnoringCase() {
        #expect(EditDistance.between("kitten", "sitting") == 3)
        #expect(EditDistance.between("Steps", "steps") == 0)
        #expect(EditDistance.between("", "abc") == 3)
    }

    @Test func suggestsOnlyWithinTheLimit() {
        #expect(EditDistance.suggestion(for: "wrods", among: ["words", "tokens"]) == "words")
        #expect(EditDistance.suggestion(for: "zzzzzzzz", among: ["words", "tokens"]) == nil)
        #expect(EditDistance.didYouMean("stepz", among: ["steps"]) == "did you mean 'steps'?")
        #expect(EditDistance.hint(for: "q", among: ["ab", "cd"]) == "expected one of: ab, cd")
    }
}
