import Foundation
import Testing

private let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path

/// Debian's `chromium` (or another Chromium on the PATH), for the page tests; nil when absent.
private let chromium: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
    }
    return nil
}()

/// `infill fill --html OUT.html`: a self-contained page with the rendered document, the fields
/// and their reports, and a replay player; opened in headless Chromium where it is installed.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: tinyModel), "Tests/Fixtures/tiny-llama.gguf is missing"))
struct FillHTMLTests {
    static let template = """
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
          risk: { tokens: 6-10, sampling: { temperature: 0.5 } }
        """

    /// Fills the brief with `--html`; returns the folder and the page.
    func fill() throws -> (dir: URL, page: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.template.write(to: dir.appendingPathComponent("brief.md"), atomically: true, encoding: .utf8)
        try Self.pipeline.write(to: dir.appendingPathComponent("brief.yaml"), atomically: true, encoding: .utf8)
        let run = try runInfill(
            ["fill", "brief.md", "--pipeline", "brief.yaml", "--model", tinyModel, "-o", "out.md", "--html", "page.html"],
            currentDirectory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOf: dir.appendingPathComponent("page.html"), encoding: .utf8)
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
        // The player's data: the field texts as written to OUT, and frames from all masked to done.
        let start = try #require(page.range(of: "<script type=\"application/json\" id=\"infill-data\">"))
        let end = try #require(page.range(of: "</script>", range: start.upperBound..<page.endIndex))
        let json = String(page[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "<\\/", with: "</")
        let data = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let frames = try #require(data["frames"] as? [[String: Any]])
        #expect(frames.count >= 4)
        #expect((frames.first?["done"] as? [String]) == [])
        #expect(Set(frames.last?["done"] as? [String] ?? []) == ["summary", "risk"])
        let passes = frames.compactMap { $0["forward_passes"] as? Int }
        #expect(passes == passes.sorted(), "forward passes never go down")
        let fields = try #require(data["fields"] as? [String: [String: Any]])
        let out = try String(contentsOf: dir.appendingPathComponent("out.md"), encoding: .utf8)
        for name in ["summary", "risk"] {
            let text = try #require(fields[name]?["text"] as? String)
            #expect(out.contains(text))
        }
    }

    @Test(.enabled(if: chromium != nil, "chromium is not installed (apt-get install -y chromium); the page is not opened"))
    func chromiumStepsThroughTheFramesAndTakesAScreenshot() throws {
        let (dir, _) = try fill()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = "file://" + dir.appendingPathComponent("page.html").path
        // #trace: the page's script shows every frame in turn and records how many fields each masks.
        let traced = try headless(["--dump-dom", url + "#trace"])
        let trace = try #require(traced.range(of: #"data-trace="[0-9,]+""#, options: .regularExpression).map { traced[$0] })
        let counts = trace.dropFirst("data-trace=\"".count).dropLast().split(separator: ",").compactMap { Int($0) }
        #expect(counts.count >= 4)
        #expect(counts.first == 2 && counts.last == 0, "\(counts)")
        #expect(counts == counts.sorted(by: >), "fields are only ever unmasked: \(counts)")
        // The first frame shows masks, the last the filled text.
        let first = try headless(["--dump-dom", url + "#frame=0"])
        #expect(first.contains("class=\"field masked"), "\(first.prefix(2000))")
        #expect(first.contains("all masked"))
        let last = try headless(["--dump-dom", url])
        #expect(!last.contains("field masked"))
        #expect(last.contains("finished"))
        let shot = dir.appendingPathComponent("page.png").path
        _ = try headless(["--window-size=1200,900", "--screenshot=\(shot)", url + "#frame=\(max(1, counts.count / 2))"])
        let size = (try FileManager.default.attributesOfItem(atPath: shot)[.size] as? Int) ?? 0
        #expect(size > 10_000, "screenshot of \(size) bytes")
    }

    /// Runs headless Chromium with `arguments`; returns its stdout.
    func headless(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(chromium))
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("infill-chromium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)",
                             "--virtual-time-budget=5000"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
