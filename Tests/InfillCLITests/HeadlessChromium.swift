import Foundation
import Testing

/// Debian's `chromium` (or another Chromium on the PATH), for the page tests; nil when absent.
let chromium: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for folder in path.split(separator: ":") {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
    }
    return nil
}()

/// Why a page test does not open the page, for `.enabled(if:)`.
let chromiumMissing: Comment = "chromium is not installed (apt-get install -y chromium); the page is not opened in a browser"

/// Opens the pages `infill` writes in headless Chromium.
enum HeadlessChromium {
    /// What the page's `#trace` records while it steps through every frame with its buttons.
    struct Trace: Decodable {
        var frames: Int
        var kinds: [String]
        var steps: [Int]
        /// The frame number the player's label shows after each click.
        var labels: [Int]
        /// Masks the article shows at each frame.
        var masks: [Int]
        /// The field texts of frame 0, in field order.
        var first: [String]
        var firstDocument: String
        var lastDocument: String
        /// The field spans' text after the last click.
        var lastArticle: [String]
    }

    /// Runs headless Chromium with `arguments`; returns its stdout.
    static func run(_ arguments: [String]) throws -> String {
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

    /// Opens `page#trace` and reads back what the player recorded.
    static func trace(_ page: String) throws -> Trace {
        let dom = try run(["--dump-dom", "file://" + page + "#trace"])
        let attribute = try #require(dom.range(of: #"data-trace="[^"]+""#, options: .regularExpression).map { dom[$0] },
                                     "no trace in \(dom.prefix(1000))")
        let encoded = String(attribute.dropFirst("data-trace=\"".count).dropLast())
        let json = try #require(encoded.removingPercentEncoding)
        return try JSONDecoder().decode(Trace.self, from: Data(json.utf8))
    }

    /// Takes a screenshot of `page` at `frame`; returns the PNG's size in bytes.
    static func screenshot(_ page: String, frame: Int, to file: String) throws -> Int {
        _ = try run(["--window-size=1200,900", "--screenshot=\(file)", "file://" + page + "#frame=\(frame)"])
        return (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
    }

    /// The sampler steps of each canvas the replay shows, in order, from a `.report.json`
    /// (every canvas but a dropped repair).
    static func stepsPerCanvas(report: String) throws -> [Int] {
        try replayedCanvases(report: report).map(\.steps)
    }

    /// The canvases a replay shows, from a `.report.json`: number and sampler steps, in order.
    static func replayedCanvases(report: String) throws -> [(number: Int, steps: Int)] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])
        var canvases: [(number: Int, steps: Int)] = []
        for canvas in try #require(object["canvases"] as? [[String: Any]]) {
            let repair = try #require(canvas["repair"] as? Bool)
            let used = try #require(canvas["used"] as? Bool)
            if repair && !used { continue }
            canvases.append((try #require(canvas["canvas"] as? Int), try #require(canvas["steps"] as? Int)))
        }
        return canvases
    }

    /// Checks a trace against the document the page belongs to: every frame shown in turn, the
    /// first all masks, masks only going away, one frame per sampler step of each canvas, the last
    /// frame the document itself.
    static func expectReplay(
        _ trace: Trace, document: String, stepsPerCanvas: [Int], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(trace.labels == Array(0..<trace.frames), "the player showed every frame in turn", sourceLocation: sourceLocation)
        #expect(trace.kinds.first == "masked", sourceLocation: sourceLocation)
        #expect(!trace.first.isEmpty && trace.first.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0 == "\u{2592}" } },
                "frame 0 is all masks: \(trace.first)", sourceLocation: sourceLocation)
        #expect(trace.masks.first == trace.first.reduce(0) { $0 + $1.count }, sourceLocation: sourceLocation)
        // Masks only go away, except where a canvas that was sampled again starts over, longer.
        for i in trace.masks.indices.dropFirst() where trace.kinds[i] != "masked" {
            #expect(trace.masks[i] <= trace.masks[i - 1], "masks only go away: frame \(i) of \(trace.masks)", sourceLocation: sourceLocation)
        }
        #expect(trace.masks.last == 0, sourceLocation: sourceLocation)
        #expect(trace.lastDocument == document, "the last frame is the document", sourceLocation: sourceLocation)
        #expect(trace.firstDocument.filter { $0 == "\u{2592}" }.count == trace.masks.first, sourceLocation: sourceLocation)
        // Frames of kind "step", numbered 1, 2, … within each canvas, as many as the sampler's steps.
        var runs: [Int] = []
        for (kind, step) in zip(trace.kinds, trace.steps) where kind == "step" {
            if step == 1 { runs.append(0) }
            if !runs.isEmpty { runs[runs.count - 1] += 1 }
            #expect(step == runs.last, sourceLocation: sourceLocation)
        }
        #expect(runs == stepsPerCanvas, "step frames per canvas", sourceLocation: sourceLocation)
    }
}
