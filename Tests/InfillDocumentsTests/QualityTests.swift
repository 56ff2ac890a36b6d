import InfillModelTestKit
@testable import InfillDocuments
import Testing

/// The quality benchmark's field measure and its AR baseline plumbing.
@Suite struct QualityTests {
    static func field(words: LengthBound? = LengthBound(min: 3, max: 30), keywords: [String] = []) -> PlannedField {
        let here = SourceLocation(file: "t.yaml", line: 1, column: 1)
        var spec = FieldSpec(location: here)
        spec.words = words
        spec.keywords = keywords.map { Located($0, at: here) }
        return PlannedField(name: "f", spec: spec, tone: nil, sampling: ResolvedSampling(SamplingSettings()),
                            location: here, isInline: false)
    }

    @Test func proseIsReadable() {
        let q = FieldQuality.measure("The checkout API failed after the 4.18 deploy and was rolled back.", field: Self.field())
        #expect(q.readable && q.repetition == 0 && !q.stutters)
    }

    @Test func stuttersRepeatsFillerAndCopiesAreNot() {
        #expect(FieldQuality.measure("We request Request a refund today.", field: Self.field()).stutters)
        let looped = FieldQuality.measure("the team was not the team was not the team", field: Self.field())
        #expect(looped.repetition > 0.3 && !looped.readable)
        let filler = FieldQuality.measure("1. 1 1 2 51 6 significant 1", field: Self.field())
        #expect(filler.filler > 0.5 && !filler.readable)
        let copy = FieldQuality.measure("It broke.\n\n## Impact\n\nIt broke again", field: Self.field(), following: "\n\n## Impact\n\nCustomers")
        #expect(copy.copiesTemplate && !copy.readable)
        let short = FieldQuality.measure("Fine.", field: Self.field())
        #expect(!short.lengthOK && !short.readable)
        #expect(!FieldQuality.measure("No keyword here.", field: Self.field(keywords: ["outage"])).keywordsOK)
    }

    @Test func documentTextAroundAFieldUsesEarlierFills() throws {
        let template = try TemplateParser.parse(Array("A {{x}} B\n\n{{y}}\n\nC".utf8), file: "t.md")
        let spec = try PipelineSpec.parse("name: p\nfields:\n  x: {words: 1-3}\n  y: {words: 1-9}", file: "p.yaml")
        let plan = try DocumentPlan.make(template: template, pipeline: spec)
        let around = DocumentText.around(plan, field: 1, fills: [0: "one"])
        #expect(around.before == "A one B\n\n")
        #expect(around.after == "\n\nC")
    }
}
