@testable import InfillDocuments
import InfillModel
import InfillModelTestKit
import Testing

/// One small template cannot ask for hours of sampling.
@Suite struct WorkLimitTests {
    @Test func aDocumentAskingForTooMuchWorkFailsBeforeSampling() throws {
        let fields = (0..<60).map { "  f\($0): {words: 20-40, sampling: {candidates: 64, steps: 128}}" }.joined(separator: "\n")
        let library = PipelineLibrary(pipelines: [try PipelineSpec.parse("name: big\nfields:\n" + fields, file: "big.yaml")])
        let model = RecordingModel(TestModels.prose())
        let filler = DocumentFiller(model: LoadedModel(model: model, tokenizer: ByteTokenizer(), name: "scripted", adapter: nil),
                                    library: library)
        let body = (0..<60).map { "{{f\($0)}}" }.joined(separator: "\n\n")
        do {
            _ = try filler.fill(name: "big.md", contents: Array(("---\npipeline: big\n---\n" + body).utf8))
            Issue.record("the document was filled")
        } catch let error as DocumentError {
            #expect("\(error)".contains("units of sampler work"))
            #expect(error.isPermanent)
        }
        #expect(model.forwardPasses == 0)
    }
}
