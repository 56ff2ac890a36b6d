import Foundation
@testable import InfillDocuments
import InfillModel
import InfillModelTestKit
import Testing

/// The replay a fill records on request: from all masks through every sampler step to the
/// document's fields, and the page built from it.
@Suite struct FillReplayTests {
    static let template = DocumentFillerTests.template

    func filler(html: Bool = false, steps: Int = 12) -> DocumentFiller {
        // A seed whose first attempt meets every constraint, so the replay is one canvas's
        // (a canvas sampled again is its own test below).
        var yaml = DocumentFillerTests.pipelineYAML.replacingOccurrences(of: "SEED", with: "3")
            .replacingOccurrences(of: "steps: 12", with: "steps: \(steps)")
        if html { yaml = yaml.replacingOccurrences(of: "output: { name: \"{stem}.out.md\" }", with: "output: { name: \"{stem}.out.md\", html: true }") }
        let spec = try! PipelineSpec.parse(yaml, file: "brief.yaml")
        #expect(spec.output.html == html)
        return DocumentFiller(model: TestModels.loaded(TestModels.prose()), library: PipelineLibrary(pipelines: [spec]))
    }

    @Test func offByDefault() throws {
        let filled = try filler().fill(name: "launch.brief.md", contents: Array(Self.template.utf8))
        #expect(filled.replay == nil)
        #expect(filled.htmlBytes == nil)
    }

    @Test func framesGoFromAllMasksThroughEveryStepToTheFields() throws {
        let plain = try filler().fill(name: "launch.brief.md", contents: Array(Self.template.utf8))
        let filled = try filler().fill(name: "launch.brief.md", contents: Array(Self.template.utf8), recordReplay: true)
        // Recording changes nothing about the document.
        #expect(filled.documentBytes == plain.documentBytes)
        #expect(filled.htmlBytes == nil, "a page only when the pipeline asks for one")
        try #require(filled.report.fields.allSatisfy { $0.attempts == 1 }, "the seed's first attempt is kept")
        let replay = try #require(filled.replay)
        let mask = String(FillReplay.mask)
        // Frame 0: every field, nothing but masks.
        let first = replay.frames[0]
        #expect(first.kind == .masked && first.forwardPasses == 0)
        #expect(Set(first.texts.keys) == [0, 1])
        for text in first.texts.values { #expect(!text.isEmpty && text.allSatisfy { String($0) == mask }) }
        // Then the keyword placement, then one frame per sampler step, numbered 1, 2, ….
        #expect(replay.frames[1].kind == .keywords, "the summary has keywords to place")
        let steps = replay.frames.filter { $0.kind == .step }
        #expect(steps.map(\.step) == Array(1...steps.count))
        #expect(steps.count == filled.report.fields[0].steps)
        let passes = replay.frames.map(\.forwardPasses)
        #expect(passes == passes.sorted() && passes.last == filled.report.totalForwardPasses)
        // Masks only ever go away, and after the last step none are left.
        let masks = replay.frames.indices.map { i in replay.texts(at: i).values.reduce(0) { $0 + $1.filter { String($0) == mask }.count } }
        #expect(masks == masks.sorted(by: >=))
        #expect(masks.first! > 0 && masks.last == 0)
        // The last frame is the document: the template's body with the reported field texts.
        let last = replay.texts(at: replay.frames.count - 1)
        #expect(last[0] == filled.report.fields[0].text && last[1] == filled.report.fields[1].text)
        #expect(Array(replay.body(at: replay.frames.count - 1).utf8) == filled.documentBytes)
    }

    @Test func aCanvasSampledAgainIsReplayedFromTheAttemptThatWasKept() throws {
        let yaml = "name: r\nsampling: { steps: 16, temperature: 1.0, seed: 3 }\nfields:\n  a: { words: 20-30 }\n"
        let spec = try PipelineSpec.parse(yaml, file: "r.yaml")
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose(nullLogit: 2)), library: PipelineLibrary(pipelines: [spec]))
        let filled = try filler.fill(name: "r.md", contents: Array("# R\n\n{{a}}\n".utf8), pipeline: spec, recordReplay: true)
        let field = try #require(filled.report.fields.first)
        try #require(field.attempts > 1, "the first attempt falls short of 20 words and is sampled again")
        let replay = try #require(filled.replay)
        // The kept attempt's canvas is longer: it starts with its own masked frame, then its steps.
        let kinds = replay.frames.map(\.kind)
        #expect(kinds.filter { $0 == .masked }.count == 2 && kinds[1] == .masked)
        let mask = String(FillReplay.mask)
        #expect(try #require(replay.frames[1].texts[0]).count > (try #require(replay.frames[0].texts[0])).count)
        #expect(try #require(replay.frames[1].texts[0]).allSatisfy { String($0) == mask })
        #expect(replay.frames.filter { $0.kind == .step }.map(\.step) == Array(1...field.steps))
        #expect(Array(replay.body(at: replay.frames.count - 1).utf8) == filled.documentBytes)
    }

    @Test func thePipelineAsksForThePage() throws {
        let filled = try filler(html: true).fill(name: "launch.brief.md", contents: Array(Self.template.utf8))
        let page = String(decoding: try #require(filled.htmlBytes), as: UTF8.self)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
        #expect(page.contains("id=\"infill-data\""))
        #expect(filled.replay != nil)
    }

    @Test func pageDataReplaysToTheDocument() throws {
        let filled = try filler(steps: 40).fill(name: "launch.brief.md", contents: Array(Self.template.utf8), recordReplay: true)
        let replay = try #require(filled.replay)
        let json = FillHTMLPage.dataJSON(replay: replay)
        #expect(!json.contains("<"))
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let frames = try #require(data["frames"] as? [[Any]])
        #expect(frames.count == replay.frames.count)
        // Apply the changes the way the page's script does (on UTF-16 units).
        var texts = [[UInt16]](repeating: [], count: replay.plan.fields.count)
        for (i, frame) in frames.enumerated() {
            for change in try #require(frame[6] as? [[Any]]) {
                let field = try #require(change[0] as? Int), prefix = try #require(change[1] as? Int)
                let suffix = try #require(change[2] as? Int), middle = try #require(change[3] as? String)
                let old = texts[field]
                texts[field] = Array(old[..<prefix]) + Array(middle.utf16) + Array(old[(old.count - suffix)...])
            }
            for (field, text) in replay.texts(at: i) { #expect(String(decoding: texts[field], as: UTF16.self) == text, "frame \(i)") }
        }
        // Diffs stay small: a step costs a few dozen bytes, not the whole field.
        #expect(json.utf8.count < 800 + replay.frames.count * 60, "\(json.utf8.count) bytes for \(replay.frames.count) frames")
    }

    @Test func changesNeverSplitASurrogatePair() {
        let change = FillHTMLPage.change(field: 0, from: "a\u{1F600}b", to: "a\u{1F601}b")
        #expect(change.prefix == 1 && change.suffix == 1 && change.middle == "\u{1F601}")
        let grow = FillHTMLPage.change(field: 0, from: "▒▒▒", to: "▒ x▒")
        #expect(grow.prefix == 1 && grow.suffix == 1 && grow.middle == " x")
        let same = FillHTMLPage.change(field: 0, from: "abc", to: "abc")
        #expect(same.middle.isEmpty && same.prefix + same.suffix == 3)
    }
}
