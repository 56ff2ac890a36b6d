import InfillDocuments
import Testing
@testable import infill

/// `serve` and `fill` pick a pipeline for a file name by one rule.
@Suite struct PipelineMatchingTests {
    @Test func serveAndFillPickTheSamePipelineForAFile() throws {
        // "any" sorts first and matches too: a first-match rule would pick it for a brief.
        let any = try PipelineSpec.parse("name: any\nmatch: [\"*.md\"]\n", file: "any.yaml")
        let brief = try PipelineSpec.parse("name: brief\nmatch: [\"*.brief.md\", \"*.txt\"]\n", file: "brief.yaml")
        let library = PipelineLibrary(pipelines: [any, brief])
        for (name, expected) in [("x.brief.md", "brief"), ("x.md", "any"), ("x.txt", "brief"), ("x.rst", "default")] {
            let template = try TemplateParser.parse(Array("x".utf8), file: name)
            let filled = try library.pipeline(for: template, fileName: name).name
            let served = PipelineDocumentProcessor.pipelineName(forFileNamed: name, in: library)
            #expect(filled == expected)
            #expect(served == filled, "\(name): serve picks \(served), fill picks \(filled)")
        }
    }
}
