import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `infill serve` with a pipeline that says `output: { html: true }`: every document gets
/// `NAME.html` next to it in the outbox, committed with the document and its report, once.
@Suite(.serialized) struct ServeHTMLTests {
    /// A sandbox whose note pipeline asks for the page; fields long enough to take some steps.
    func sandbox() throws -> ServeSandbox {
        let sandbox = try ServeSandbox(steps: 12, tokens: "8-12")
        try sandbox.write("pipelines/note.yaml", """
            name: note
            match: "*.note.md"
            output: { name: "{stem}.md", report: true, html: true }
            sampling: { steps: 12, seed: 3 }
            fields:
              body:
                tokens: 8-12

            """)
        return sandbox
    }

    @Test func eachDocumentGetsItsPageNextToIt() throws {
        let sandbox = try sandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        try sandbox.drop("b.note.md", ServeSandbox.template(2))
        let run = try sandbox.start(["--once"])
        #expect(run.wait() == 0, "\(run.log)")
        #expect(sandbox.names("outbox") == ["a.md", "a.md.html", "a.md.report.json", "b.md", "b.md.html", "b.md.report.json"])
        #expect(sandbox.names(".infill/staging").isEmpty && sandbox.names(".infill/commits").isEmpty)
        let page = try #require(sandbox.read("outbox/a.md.html"))
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.hasSuffix("</html>\n"))
        #expect(page.contains("default-src 'none'") && page.contains("data-field=\"body\""))
        #expect(page.contains("a.note.md → a.md"))
    }

    @Test(.enabled(if: chromium != nil, chromiumMissing))
    func theDaemonsPageReplaysTheFillInChromium() throws {
        let sandbox = try sandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        let run = try sandbox.start(["--once"])
        #expect(run.wait() == 0, "\(run.log)")
        let page = sandbox.path("outbox/a.md.html")
        let trace = try HeadlessChromium.trace(page)
        let document = try #require(sandbox.read("outbox/a.md"))
        let report = try #require(sandbox.read("outbox/a.md.report.json"))
        HeadlessChromium.expectReplay(trace, document: document, stepsPerCanvas: try HeadlessChromium.stepsPerCanvas(report: report))
        #expect(trace.firstDocument.hasPrefix("# Note 1\n\n\u{2592}"))
        let size = try HeadlessChromium.screenshot(page, frame: trace.frames / 2, to: sandbox.path("page.png"))
        #expect(size > 10_000, "screenshot of \(size) bytes")
    }

    @Test(arguments: ["commit-after-journal", "commit-after-report", "commit-after-html", "commit-after-document"])
    func aKillAtEachCommitStepPublishesThePageOnce(failpoint: String) throws {
        let sandbox = try sandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        let crashed = try sandbox.start(["--once", "--workers", "1"], environment: ["INFILL_FAILPOINTS": failpoint])
        #expect(crashed.wait() == SIGKILL, "\(crashed.log)")
        // Never a document without its report and page, never a partial file.
        let left = sandbox.names("outbox")
        if left.contains("a.md") { #expect(left == ["a.md", "a.md.html", "a.md.report.json"]) }
        if failpoint == "commit-after-html" { #expect(left == ["a.md.html", "a.md.report.json"]) }
        if let page = sandbox.read("outbox/a.md.html") { #expect(page.hasSuffix("</html>\n")) }
        let restart = try sandbox.start(["--once"])
        #expect(restart.wait() == 0, "\(restart.log)")
        #expect(sandbox.names("outbox") == ["a.md", "a.md.html", "a.md.report.json"])
        #expect(sandbox.read("outbox/a.md")?.hasSuffix("End of note 1.\n") == true)
        #expect(sandbox.read("outbox/a.md.html")?.hasSuffix("</html>\n") == true)
        for folder in ["processing", "staging", "attempts", "commits"] {
            #expect(sandbox.names(".infill/" + folder).isEmpty, "\(folder)")
        }
        #expect(sandbox.names("inbox").isEmpty)
    }
}
