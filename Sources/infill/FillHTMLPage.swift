import Foundation
import InfillDocuments

/// The self-contained page `infill fill --html OUT.html` writes: the filled document rendered
/// from Markdown with every field highlighted, each field's report, and a player that replays the
/// fill step by step from the recorded ``FillTimeline``.
///
/// The page loads nothing: styles, script and data are inline (the data as JSON in a
/// `<script type="application/json">`). Frames are per sampler step: a field shows masks until its
/// canvas is finished, the canvas being sampled is marked with its step, forward passes and time.
/// (`DocumentFiller` does not hand out the per-step canvas, so tokens are not revealed one by one.)
enum FillHTMLPage {
    /// At most this many frames; longer timelines are thinned, keeping each canvas's last step.
    static let maxFrames = 400

    /// One player frame: the fields already filled, those being sampled, and the counters.
    struct Frame: Equatable {
        var done: [String]
        var active: [String]
        var step: Int
        var totalSteps: Int
        var forwardPasses: Int
        var seconds: Double
    }

    /// The frames for a timeline: one per event (thinned to ``maxFrames``), then the finished
    /// document.
    static func frames(_ events: [FillTimeline.Event], fieldNames: [String], report: FillReport) -> [Frame] {
        var frames: [Frame] = []
        var done: [String] = []
        var current: [String] = []
        frames.append(Frame(done: [], active: [], step: 0, totalSteps: events.first?.totalSteps ?? 0, forwardPasses: 0, seconds: 0))
        for event in events {
            if event.fields != current {
                done += current.filter { !done.contains($0) }
                current = event.fields
            }
            frames.append(Frame(done: done, active: current, step: event.step, totalSteps: event.totalSteps,
                                forwardPasses: event.forwardPasses, seconds: event.seconds))
        }
        frames.append(Frame(done: fieldNames, active: [], step: frames.last?.step ?? 0, totalSteps: frames.last?.totalSteps ?? 0,
                            forwardPasses: report.totalForwardPasses, seconds: report.totalSeconds))
        guard frames.count > maxFrames else { return frames }
        // Keep the first and last frames and every canvas's last step; spread the rest evenly.
        var keep = Set([0, frames.count - 1])
        for index in 1..<(frames.count - 1) where frames[index + 1].active != frames[index].active { keep.insert(index) }
        let stride = Double(frames.count) / Double(max(1, maxFrames - keep.count))
        var position = 0.0
        while Int(position) < frames.count {
            keep.insert(Int(position))
            position += stride
        }
        return keep.sorted().prefix(maxFrames - 1).map { frames[$0] } + [frames[frames.count - 1]]
    }

    /// The whole page.
    static func render(plan: DocumentPlan, report: FillReport, events: [FillTimeline.Event]) -> String {
        let names = plan.fields.map(\.name)
        let byName = Dictionary(report.fields.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        // The body with a private-use marker per field, rendered, then the markers swapped for spans.
        var source = ""
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes): source += String(decoding: bytes, as: UTF8.self)
            case .field(let index): source += "\u{E000}\(index)\u{E001}"
            }
        }
        var body = MarkdownHTML.render(source)
        for (index, field) in plan.fields.enumerated() {
            let text = byName[field.name]?.text ?? ""
            let span = "<span class=\"field\" data-field=\"\(MarkdownHTML.escape(field.name))\" tabindex=\"0\" "
                + "title=\"\(MarkdownHTML.escape(field.name))\">\(MarkdownHTML.escape(text))</span>"
            body = body.replacingOccurrences(of: "\u{E000}\(index)\u{E001}", with: span)
        }
        let frames = frames(events, fieldNames: names, report: report)
        let cards = report.fields.map(card).joined(separator: "\n")
        let title = MarkdownHTML.escape("\(report.document) — infill")
        let summary = "pipeline <b>\(MarkdownHTML.escape(report.pipeline))</b> · model <b>\(MarkdownHTML.escape(report.model))</b>"
            + (report.adapter.map { " + \(MarkdownHTML.escape($0))" } ?? "")
            + " · seed \(report.seed) · \(report.fields.count) field(s) · \(report.totalForwardPasses) forward passes · "
            + String(format: "%.2f s", report.totalSeconds)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <title>\(title)</title>
            <style>\(style)</style>
            </head>
            <body>
            <header>
            <h1 class="doc-title">\(MarkdownHTML.escape(report.document)) → \(MarkdownHTML.escape(report.output))</h1>
            <p class="summary">\(summary)</p>
            <div class="player" id="player">
            <button type="button" id="first" title="First frame: all masked">|◀</button>
            <button type="button" id="back" title="Previous frame">◀</button>
            <button type="button" id="play" title="Replay">▶ Replay</button>
            <button type="button" id="forward" title="Next frame">▶</button>
            <button type="button" id="last" title="Last frame: the filled document">▶|</button>
            <input type="range" id="scrub" min="0" max="\(frames.count - 1)" value="\(frames.count - 1)" aria-label="Frame">
            <span id="label" class="label"></span>
            </div>
            </header>
            <main>
            <article id="document">
            \(body)
            </article>
            <aside id="reports">
            \(cards)
            </aside>
            </main>
            <script type="application/json" id="infill-data">\(dataJSON(frames: frames, report: report))</script>
            <script>\(script)</script>
            </body>
            </html>

            """
    }

    /// One field's report card.
    static func card(_ field: FillReport.Field) -> String {
        let keywords = field.keywords.map { word in
            let found = field.keywordsFound.contains(word)
            return "<span class=\"kw \(found ? "found" : "missing")\" title=\"\(found ? "found" : "missing")\">"
                + MarkdownHTML.escape(word) + (found ? " ✓" : " ✗") + "</span>"
        }.joined(separator: " ")
        var rows: [(String, String)] = [
            ("tokens", "\(field.tokens)"), ("words", "\(field.words)"), ("steps", "\(field.steps)"),
            ("forward passes", "\(field.forwardPasses)"), ("seconds", String(format: "%.2f", field.seconds)),
        ]
        if !field.keywords.isEmpty { rows.append(("keywords", keywords)) }
        if !field.avoid.isEmpty { rows.append(("avoid", MarkdownHTML.escape(field.avoid.joined(separator: ", ")))) }
        if let tone = field.tone {
            rows.append(("tone", MarkdownHTML.escape(tone) + (field.toneScore.map { String(format: " (score %.2f)", $0) } ?? "")))
        }
        rows.append(("seed", "\(field.seed)"))
        rows.append(("candidates · attempts", "\(field.candidates) · \(field.attempts)"))
        if field.canvasFields.count > 1 {
            rows.append(("canvas", MarkdownHTML.escape(field.canvasFields.joined(separator: ", "))))
        }
        let table = rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }.joined()
        let name = MarkdownHTML.escape(field.name)
        return "<section class=\"card\" data-card=\"\(name)\"><h2>\(name)</h2><table>\(table)</table></section>"
    }

    /// The frames and field texts the script replays, as JSON (`</` escaped so it cannot close the
    /// script element).
    static func dataJSON(frames: [Frame], report: FillReport) -> String {
        struct FieldData: Encodable { var text: String; var tokens: Int }
        struct FrameData: Encodable {
            var done: [String], active: [String], step: Int, total_steps: Int, forward_passes: Int, seconds: Double
        }
        struct PageData: Encodable { var fields: [String: FieldData]; var frames: [FrameData] }
        var fields: [String: FieldData] = [:]
        for field in report.fields where fields[field.name] == nil {
            fields[field.name] = FieldData(text: field.text, tokens: field.tokens)
        }
        let data = PageData(fields: fields, frames: frames.map {
            FrameData(done: $0.done, active: $0.active, step: $0.step, total_steps: $0.totalSteps,
                      forward_passes: $0.forwardPasses, seconds: $0.seconds.isFinite ? $0.seconds : 0)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = (try? encoder.encode(data)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"fields\":{},\"frames\":[]}"
        return json.replacingOccurrences(of: "</", with: "<\\/")
    }

    static let style = """
        :root { --ink: #1d2330; --muted: #667085; --field: #fff3c4; --active: #dbeafe; --line: #e4e7ec; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f8f9fb; }
        header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid var(--line); padding: 12px 24px; z-index: 1; }
        .doc-title { font-size: 18px; margin: 0; }
        .summary { margin: 2px 0 8px; color: var(--muted); font-size: 14px; }
        .player { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
        .player button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); background: #fff; border-radius: 6px; cursor: pointer; }
        .player input { flex: 1; min-width: 160px; }
        .label { font: 13px ui-monospace, monospace; color: var(--muted); min-width: 30ch; }
        main { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 24px; padding: 24px; max-width: 1200px; margin: 0 auto; }
        article { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 8px 32px 24px; }
        .field { background: var(--field); border-radius: 3px; padding: 0 2px; box-decoration-break: clone; -webkit-box-decoration-break: clone; }
        .field.masked { color: #98a2b3; background: #eef0f4; letter-spacing: 1px; word-break: break-all; }
        table.md { border-collapse: collapse; margin: 8px 0 16px; } table.md th, table.md td { border: 1px solid var(--line); padding: 3px 10px; text-align: left; }
        .field.active { background: var(--active); color: #3b5b9a; outline: 1px dashed #7aa2e3; }
        .field.selected, .card.selected { box-shadow: 0 0 0 2px #f79009; }
        aside .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 8px 14px; margin-bottom: 12px; }
        .card h2 { font-size: 15px; margin: 4px 0; font-family: ui-monospace, monospace; }
        .card table { border-collapse: collapse; font-size: 13px; width: 100%; }
        .card th { text-align: left; color: var(--muted); font-weight: normal; padding: 1px 8px 1px 0; white-space: nowrap; vertical-align: top; }
        code, pre { font-family: ui-monospace, monospace; font-size: 0.92em; background: #f2f4f7; border-radius: 4px; }
        code { padding: 0 3px; } pre { padding: 10px; overflow-x: auto; }
        blockquote { margin: 0 0 0 4px; padding-left: 14px; border-left: 3px solid var(--line); color: #475467; }
        .kw { border-radius: 4px; padding: 0 4px; }
        .kw.found { background: #dcfae6; } .kw.missing { background: #fee4e2; }
        @media (max-width: 860px) { main { grid-template-columns: 1fr; } }
        """

    static let script = """
        (function () {
          "use strict";
          var data = JSON.parse(document.getElementById("infill-data").textContent);
          var frames = data.frames, last = frames.length - 1, current = last, timer = null;
          var spans = Array.prototype.slice.call(document.querySelectorAll(".field"));
          var label = document.getElementById("label"), scrub = document.getElementById("scrub");
          var play = document.getElementById("play");
          function masks(name) {
            var field = data.fields[name] || { tokens: 1 };
            return new Array(Math.max(1, Math.min(field.tokens, 240)) + 1).join("\\u2592");
          }
          function show(index) {
            current = Math.max(0, Math.min(last, index));
            var frame = frames[current], masked = 0;
            spans.forEach(function (span) {
              var name = span.dataset.field;
              var filled = current === last || frame.done.indexOf(name) >= 0;
              var active = !filled && frame.active.indexOf(name) >= 0;
              span.textContent = filled ? (data.fields[name] || { text: "" }).text : masks(name);
              span.classList.toggle("masked", !filled);
              span.classList.toggle("active", active);
              if (!filled) masked += 1;
            });
            var text = current === last ? "finished" : current === 0 ? "all masked"
              : "step " + frame.step + "/" + frame.total_steps + " of " + frame.active.join(", ");
            label.textContent = "frame " + current + "/" + last + " \\u00b7 " + text + " \\u00b7 "
              + frame.forward_passes + " forward passes \\u00b7 " + frame.seconds.toFixed(2) + " s";
            scrub.value = String(current);
            document.body.dataset.frame = String(current);
            return masked;
          }
          function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\\u25b6 Replay"; }
          function start() {
            stop();
            if (current === last) show(0);
            play.textContent = "\\u23f8 Pause";
            var delay = Math.max(15, Math.min(120, 6000 / Math.max(1, last)));
            timer = setInterval(function () { if (current >= last) stop(); else show(current + 1); }, delay);
          }
          play.addEventListener("click", function () { if (timer) stop(); else start(); });
          document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
          document.getElementById("last").addEventListener("click", function () { stop(); show(last); });
          document.getElementById("back").addEventListener("click", function () { stop(); show(current - 1); });
          document.getElementById("forward").addEventListener("click", function () { stop(); show(current + 1); });
          scrub.addEventListener("input", function () { stop(); show(parseInt(scrub.value, 10)); });
          spans.forEach(function (span) {
            span.addEventListener("click", function () {
              document.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
              span.classList.add("selected");
              var card = document.querySelector('[data-card="' + span.dataset.field.replace(/"/g, '\\\\"') + '"]');
              if (card) { card.classList.add("selected"); card.scrollIntoView({ block: "nearest" }); }
            });
          });
          window.infillPlayer = { frames: frames.length, show: show, start: start, stop: stop };
          // #frame=N opens at frame N; #trace steps through every frame and records how many
          // fields each one masks (data-trace on the body), for tests and screenshots.
          var hash = window.location.hash;
          var match = /frame=(\\d+)/.exec(hash);
          if (hash.indexOf("trace") >= 0) {
            var trace = [];
            for (var i = 0; i <= last; i++) trace.push(show(i));
            document.body.dataset.trace = trace.join(",");
          }
          show(match ? parseInt(match[1], 10) : last);
        })();
        """
}
