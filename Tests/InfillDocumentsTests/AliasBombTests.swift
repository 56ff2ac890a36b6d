import Foundation
@testable import InfillDocuments
import Testing

/// YAML anchors and aliases cannot make a small file expand into a huge tree.
@Suite struct AliasBombTests {
    static let bomb = """
        a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
        h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
        name: p
        """

    @Test func aPipelineAliasBombIsRefusedQuickly() {
        let started = ContinuousClock.now
        #expect(throws: DocumentError.self) { try PipelineSpec.parse(Self.bomb, file: "bomb.yaml") }
        #expect(ContinuousClock.now - started < .seconds(2))
    }

    @Test func frontMatterAliasBombIsRefusedWithAPosition() {
        let template = "---\n" + Self.bomb + "\n---\nBody {{x}}\n"
        do {
            _ = try TemplateParser.parse(Array(template.utf8), file: "t.md")
            Issue.record("the alias bomb was accepted")
        } catch let error as DocumentError {
            #expect("\(error)".contains("expands to more than"))
            #expect("\(error)".hasPrefix("t.md:"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func ordinaryAliasesStillWork() throws {
        let spec = try PipelineSpec.parse("name: p\nfields:\n  a: &w {words: 3-9}\n  b: *w\n", file: "p.yaml")
        #expect(spec.fields["b"]?.words == LengthBound(min: 3, max: 9))
    }
}
