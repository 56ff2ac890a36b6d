import Foundation
import Testing

private let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path

/// `infill fill --html OUT.html`: a self-contained page with the rendered document, the fields
/// and their reports, and a replay player; opened in headless Chromium where it is installed.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: tinyModel), "Tests/Fixtures/tiny-llama.gguf is missing"))
struct FillHTMLTests {
    static let template = """
        ---
        owner: Ada
        ---
        # Brief for <Ada> & co

        ## Summary

        {{summary}}

        ## Risks

        - Battery: {{risk}}
        - *Shipping* is **late**, see `plan.md`.

        | Fact | Value |
        |------|-------|
        | Weight | 180 g |

        """
    static let pipeline = """
        name: brief
        sampling: { steps: 24, seed: 3 }
        fields:
          summary: { tokens: 16-24, keywords: [battery] }
          risk: { tokens: 6-10, sampling: { temperature: 0.9 } }
        """

    /// Fills the brief with `--html` (or, with `pipelineAsks`, with `output: { html: true }` and
    /// only `-o`); returns the folder and the page.
    func fill(pipelineAsks: Bool = false) throws -> (dir: URL, page: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.template.write(to: dir.appendingPathComponent("brief.md"), atomically: true, encoding: .utf8)
        let pipeline = pipelineAsks ? Self.pipeline.replacingOccurrences(of: "name: brief\n", with: "name: brief\noutput: { html: true, front_matter: keep }\n")
            : Self.pipeline
        try pipeline.write(to: dir.appendingPathComponent("brief.yaml"), atomically: true, encoding: .utf8)
        let run = try runInfill(
            ["fill", "brief.md", "--pipeline", "brief.yaml", "--model", tinyModel, "-o", "out.md"]
                + (pipelineAsks ? [] : ["--html", "page.html"]),
            currentDirectory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOf: dir.appendingPathComponent(pipelineAsks ? "out.md.html" : "page.html"), encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("out.md.html").path) == pipelineAsks,
                "OUT.html only when the pipeline asks for it")
        return (dir, page)
    }

    @Test func pageIsSelfContainedWithFieldsReportsAndFrames() throws {
        let (dir, page) = try fill()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Nothing is fetched: no external scripts, styles, images or fonts, and a CSP that forbids them.
        for fetch in ["src=", "<link", "url(", "@import", "http://", "https://"] {
            #expect(!page.contains(fetch), "the page contains \(fetch)")
        }
        #expect(page.contains("default-src 'none'"))
        // Markdown rendered, template text escaped.
        #expect(page.contains("<h1>Brief for &lt;Ada&gt; &amp; co</h1>"))
        #expect(page.contains("<em>Shipping</em> is <strong>late</strong>, see <code>plan.md</code>."))
        #expect(page.contains("<table class=\"md\"><thead><tr><th>Fact</th><th>Value</th></tr></thead><tbody><tr><td>Weight</td><td>180 g</td></tr></tbody></table>"))
        #expect(page.contains("<li>Battery: <span class=\"field\" data-field=\"risk\""))
        #expect(page.contains("<span class=\"field\" data-field=\"summary\""))
        // Report cards with tokens, steps and the keyword's outcome.
        #expect(page.contains("data-card=\"summary\"") && page.contains("data-card=\"risk\""))
        #expect(page.contains("<th>tokens</th>") && page.contains("<th>steps</th>") && page.contains("<th>keywords</th>"))
        #expect(page.contains("battery ✓") || page.contains("battery ✗"))
        // The player's data: the fields, the template pieces, and frames from all masked through
        // every sampler step of both canvases (the risk has its own temperature).
        let start = try #require(page.range(of: "<script type=\"application/json\" id=\"infill-data\">"))
        let end = try #require(page.range(of: "</script>", range: start.upperBound..<page.endIndex))
        let json = String(page[start.upperBound..<end.lowerBound])
        #expect(!json.contains("<"), "the data cannot end its script element")
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(data["fields"] as? [String] == ["summary", "risk"])
        let frames = try #require(data["frames"] as? [[Any]])
        let kinds = frames.compactMap { $0.first as? String }
        #expect(kinds.first == "masked" && kinds.filter { $0 == "step" }.count >= 4)
        let report = try String(contentsOf: dir.appendingPathComponent("out.md.report.json"), encoding: .utf8)
        #expect(kinds.filter { $0 == "step" }.count == (try HeadlessChromium.stepsPerCanvas(report: report)).reduce(0, +))
        // Two canvases (the risk has its own temperature), then any repair that was kept.
        let canvases = try HeadlessChromium.replayedCanvases(report: report).map(\.number)
        #expect(canvases.prefix(2) == [0, 1])
        #expect(Set(frames.compactMap { $0[1] as? Int }) == Set(canvases))
        let passes = frames.compactMap { $0[4] as? Int }
        #expect(passes == passes.sorted(), "forward passes never go down")
    }

    @Test func aPipelineWithOutputHTMLWritesThePageNextToTheDocument() throws {
        let (dir, page) = try fill(pipelineAsks: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
        #expect(page.contains("data-field=\"summary\"") && page.contains("id=\"infill-data\""))
        guard chromium != nil else { return }
        // The replay ends on the document as written, front matter (kept here) included.
        let document = try String(contentsOf: dir.appendingPathComponent("out.md"), encoding: .utf8)
        #expect(document.hasPrefix("---\nowner: Ada\n---\n"))
        let report = try String(contentsOf: dir.appendingPathComponent("out.md.report.json"), encoding: .utf8)
        let trace = try HeadlessChromium.trace(dir.appendingPathComponent("out.md.html").path)
        HeadlessChromium.expectReplay(trace, document: document, stepsPerCanvas: try HeadlessChromium.stepsPerCanvas(report: report))
    }

    @Test(.enabled(if: chromium != nil, chromiumMissing))
    func chromiumStepsThroughEveryFrameAndTakesAScreenshot() throws {
        let (dir, _) = try fill()
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("page.html").path
        let trace = try HeadlessChromium.trace(page)
        let document = try String(contentsOf: dir.appendingPathComponent("out.md"), encoding: .utf8)
        let report = try String(contentsOf: dir.appendingPathComponent("out.md.report.json"), encoding: .utf8)
        HeadlessChromium.expectReplay(trace, document: document, stepsPerCanvas: try HeadlessChromium.stepsPerCanvas(report: report))
        // The first frame shows masks, the last the filled text.
        let first = try HeadlessChromium.run(["--dump-dom", "file://" + page + "#frame=0"])
        #expect(first.contains("class=\"field masked"), "\(first.prefix(2000))")
        #expect(first.contains("all masked"))
        let last = try HeadlessChromium.run(["--dump-dom", "file://" + page])
        #expect(!last.contains("field masked") && !last.contains("class=\"m\""))
        #expect(last.contains("finished"))
        let size = try HeadlessChromium.screenshot(page, frame: trace.frames / 2, to: dir.appendingPathComponent("page.png").path)
        #expect(size > 10_000, "screenshot of \(size) bytes")
    }
}
