@testable import InfillBench
@testable import InfillDocuments
import Testing

/// The text around a field that the quality benchmark judges fills in.
@Suite struct DocumentTextTests {
    @Test func documentTextAroundAFieldUsesEarlierFills() throws {
        let template = try TemplateParser.parse(Array("A {{x}} B\n\n{{y}}\n\nC".utf8), file: "t.md")
        let spec = try PipelineSpec.parse("name: p\nfields:\n  x: {words: 1-3}\n  y: {words: 1-9}", file: "p.yaml")
        let plan = try DocumentPlan.make(template: template, pipeline: spec)
        let around = DocumentText.around(plan, field: 1, fills: [0: "one"])
        #expect(around.before == "A one B\n\n")
        #expect(around.after == "\n\nC")
    }
}
