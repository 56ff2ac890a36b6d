import Foundation

/// The self-contained page of one fill (`infill fill --html OUT.html`, or `NAME.html` next to the
/// document with `output: { html: true }`): the filled document rendered from Markdown with every
/// field highlighted, each field's report, and a player that replays the ``FillReplay`` frame by
/// frame, from the whole document masked through every sampler step to the final text.
///
/// The page loads nothing: styles, script and data are inline (the data as JSON in a
/// `<script type="application/json">`, which a Content-Security-Policy keeps from fetching
/// anything). Frames are stored as text diffs, per frame and field only what changed (a common
/// prefix and suffix length in UTF-16 units and the new middle), so a step that unmasks one token
/// costs a few dozen bytes and a 600-step document stays small.
public enum FillHTMLPage {
    /// One field's change in one frame: the new text is the old text's first `prefix` UTF-16
    /// units, then `middle`, then the old text's last `suffix` units.
    struct Change: Equatable {
        var field: Int
        var prefix: Int
        var suffix: Int
        var middle: String
    }

    /// The change that turns `old` into `new` (never splitting a surrogate pair).
    static func change(field: Int, from old: String, to new: String) -> Change {
        let a = Array(old.utf16), b = Array(new.utf16)
        var prefix = 0
        while prefix < a.count && prefix < b.count && a[prefix] == b[prefix] { prefix += 1 }
        if prefix > 0 && prefix < b.count && UTF16.isTrailSurrogate(b[prefix]) { prefix -= 1 }
        var suffix = 0
        while suffix < a.count - prefix && suffix < b.count - prefix && a[a.count - 1 - suffix] == b[b.count - 1 - suffix] {
            suffix += 1
        }
        if suffix > 0 && b.count - suffix > prefix && UTF16.isTrailSurrogate(b[b.count - suffix]) { suffix -= 1 }
        let middle = String(decoding: b[prefix..<(b.count - suffix)], as: UTF16.self)
        return Change(field: field, prefix: prefix, suffix: suffix, middle: middle)
    }

    /// Every frame's changes against the frame before (frame 0 against empty texts).
    static func changes(_ replay: FillReplay) -> [[Change]] {
        var current: [Int: String] = [:]
        return replay.frames.map { frame in
            frame.texts.keys.sorted().compactMap { field -> Change? in
                let new = frame.texts[field] ?? ""
                let old = current[field]
                current[field] = new
                return old == new ? nil : change(field: field, from: old ?? "", to: new)
            }
        }
    }

    /// The whole page for a fill's report and replay.
    public static func render(report: FillReport, replay: FillReplay) -> String {
        let plan = replay.plan
        let final = replay.texts(at: replay.frames.count - 1)
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
            let name = MarkdownHTML.escape(field.name)
            let span = "<span class=\"field\" data-field=\"\(name)\" data-index=\"\(index)\" tabindex=\"0\" "
                + "title=\"\(name)\">\(MarkdownHTML.escape(final[index] ?? ""))</span>"
            body = body.replacingOccurrences(of: "\u{E000}\(index)\u{E001}", with: span)
        }
        let last = max(0, replay.frames.count - 1)
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
            <input type="range" id="scrub" min="0" max="\(last)" value="\(last)" aria-label="Frame">
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
            <script type="application/json" id="infill-data">\(dataJSON(replay: replay))</script>
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
        if field.repaired { rows.append(("repaired", "filled again on its own: the first fill did not read as prose or forced a keyword in")) }
        let table = rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }.joined()
        let name = MarkdownHTML.escape(field.name)
        return "<section class=\"card\" data-card=\"\(name)\"><h2>\(name)</h2><table>\(table)</table></section>"
    }

    /// The replay as the script reads it, as JSON (every `<` escaped, so it cannot close the script
    /// element): `fields` (names, in plan order), `pieces` (template text and field indices, for
    /// the plain document text of a frame), `front_matter` (kept front matter or ""), and `frames`,
    /// each `[kind, canvas, step, total_steps, forward_passes, seconds, [[field, prefix, suffix, middle], …]]`.
    static func dataJSON(replay: FillReplay) -> String {
        let plan = replay.plan
        var pieces: [JSONValue] = []
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes): pieces.append(.string(String(decoding: bytes, as: UTF8.self)))
            case .field(let index): pieces.append(.int(index))
            }
        }
        let frontMatter = plan.pipeline.output.frontMatter == .keep
            ? plan.template.frontMatter.map { String(decoding: $0.bytes, as: UTF8.self) } ?? "" : ""
        let frames: [JSONValue] = zip(replay.frames, changes(replay)).map { frame, changes in
            .array([
                .string(frame.kind.rawValue), .int(frame.canvas), .int(frame.step), .int(frame.totalSteps),
                .int(frame.forwardPasses), .double(frame.seconds.isFinite ? (frame.seconds * 1000).rounded() / 1000 : 0),
                .array(changes.map { .array([.int($0.field), .int($0.prefix), .int($0.suffix), .string($0.middle)]) }),
            ])
        }
        let data = JSONValue.object([
            ("fields", .array(plan.fields.map { .string($0.name) })),
            ("front_matter", .string(frontMatter)),
            ("pieces", .array(pieces)),
            ("frames", .array(frames)),
        ])
        // No `<` at all, so neither `</script>` nor `<!--` can end or change the script element.
        return data.compact.replacingOccurrences(of: "<", with: "\\u003c")
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
        .field.masked { background: #eef0f4; }
        .field .m { color: #98a2b3; background: #eef0f4; letter-spacing: 1px; word-break: break-all; }
        .field .new { background: #fdb022; color: #1d2330; border-radius: 2px; }
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
          var MASK = "\\u2592";
          var frames = data.frames, last = frames.length - 1, current = last, timer = null;
          // Every frame's field texts, rebuilt from the changes (texts[i][field]), and what changed.
          var texts = [], changed = [], state = data.fields.map(function () { return ""; });
          frames.forEach(function (frame) {
            var marks = {};
            frame[6].forEach(function (c) {
              var old = state[c[0]];
              state[c[0]] = old.slice(0, c[1]) + c[3] + old.slice(old.length - c[2]);
              marks[c[0]] = [c[1], c[1] + c[3].length];
            });
            texts.push(state.slice());
            changed.push(marks);
          });
          var spans = Array.prototype.slice.call(document.querySelectorAll(".field"));
          var label = document.getElementById("label"), scrub = document.getElementById("scrub");
          var play = document.getElementById("play");
          function masksIn(text) { var n = 0; for (var i = 0; i < text.length; i++) if (text[i] === MASK) n++; return n; }
          // Appends text to an element: mask runs in spans of class "m", the rest in spans of
          // class `cls` (the tokens this frame committed) or as plain text.
          function append(parent, text, cls) {
            var re = /\\u2592+|[^\\u2592]+/g, m;
            while ((m = re.exec(text))) {
              var mask = m[0][0] === MASK;
              if (!mask && !cls) { parent.appendChild(document.createTextNode(m[0])); continue; }
              var node = document.createElement("span");
              node.className = mask ? "m" : cls;
              node.textContent = m[0];
              parent.appendChild(node);
            }
          }
          // The fields of each canvas: those its frames change (frame 0 masks every field).
          var canvasFields = {};
          frames.forEach(function (f, i) {
            var list = canvasFields[f[1]] || (canvasFields[f[1]] = []);
            if (i > 0) f[6].forEach(function (c) { if (list.indexOf(c[0]) < 0) list.push(c[0]); });
          });
          function documentText(index) {
            return data.front_matter + data.pieces.map(function (p) { return typeof p === "number" ? texts[index][p] : p; }).join("");
          }
          function show(index) {
            current = Math.max(0, Math.min(last, index));
            var frame = frames[current], masked = 0;
            spans.forEach(function (span) {
              var field = parseInt(span.dataset.index, 10), text = texts[current][field] || "";
              var mark = changed[current][field];
              while (span.firstChild) span.removeChild(span.firstChild);
              if (mark && current !== last) {
                append(span, text.slice(0, mark[0]), "");
                append(span, text.slice(mark[0], mark[1]), "new");
                append(span, text.slice(mark[1]), "");
              } else {
                append(span, text, "");
              }
              var masks = masksIn(text);
              masked += masks;
              span.classList.toggle("masked", masks > 0 && masks === text.length);
              span.classList.toggle("active", current !== 0 && current !== last
                && (canvasFields[frame[1]] || []).indexOf(field) >= 0);
            });
            var kind = frame[0], what = current === last ? "finished" : current === 0 ? "all masked"
              : kind === "keywords" ? "keywords placed" : kind === "cleanup" ? "cleaned up"
              : kind === "masked" ? "canvas " + (frame[1] + 1) + " masked"
              : "step " + frame[2] + " (of at most " + frame[3] + ")";
            label.textContent = "frame " + current + "/" + last + " \\u00b7 " + what + " \\u00b7 "
              + masked + " masks \\u00b7 " + frame[4] + " forward passes \\u00b7 " + frame[5].toFixed(2) + " s";
            scrub.value = String(current);
            document.body.dataset.frame = String(current);
            return masked;
          }
          function stop() { if (timer) { clearInterval(timer); timer = null; } play.textContent = "\\u25b6 Replay"; }
          function start() {
            stop();
            if (current === last) show(0);
            play.textContent = "\\u23f8 Pause";
            var delay = Math.max(10, Math.min(120, 8000 / Math.max(1, last)));
            timer = setInterval(function () { if (current >= last) stop(); else show(current + 1); }, delay);
          }
          play.addEventListener("click", function () { if (timer) stop(); else start(); });
          document.getElementById("first").addEventListener("click", function () { stop(); show(0); });
          document.getElementById("last").addEventListener("click", function () { stop(); show(last); });
          document.getElementById("back").addEventListener("click", function () { stop(); show(current - 1); });
          document.getElementById("forward").addEventListener("click", function () { stop(); show(current + 1); });
          scrub.addEventListener("input", function () { stop(); show(parseInt(scrub.value, 10)); });
          document.addEventListener("keydown", function (e) {
            if (e.target && e.target.tagName === "INPUT") return;
            if (e.key === "ArrowLeft") { stop(); show(current - 1); }
            if (e.key === "ArrowRight") { stop(); show(current + 1); }
          });
          spans.forEach(function (span) {
            span.addEventListener("click", function () {
              document.querySelectorAll(".selected").forEach(function (e) { e.classList.remove("selected"); });
              span.classList.add("selected");
              var card = document.querySelector('[data-card="' + span.dataset.field.replace(/"/g, '\\\\"') + '"]');
              if (card) { card.classList.add("selected"); card.scrollIntoView({ block: "nearest" }); }
            });
          });
          window.infillPlayer = {
            frames: frames.length, show: show, start: start, stop: stop, documentText: documentText,
            texts: function (index) { return texts[index].slice(); }
          };
          // #frame=N opens at frame N. #trace steps through every frame with the player's own
          // buttons (|◀, then ▶ until the end) and records for tests, URI-encoded JSON in
          // data-trace on the body: per frame its kind, step, the frame the label names and the
          // masks the article shows, the field texts of the first frame, and the plain document
          // text of the first and the last frame.
          var hash = window.location.hash;
          var match = /frame=(\\d+)/.exec(hash);
          if (hash.indexOf("trace") >= 0) {
            var article = document.getElementById("document");
            var trace = { frames: frames.length, kinds: [], steps: [], labels: [], masks: [], first: texts[0].slice(),
                          firstDocument: documentText(0), lastDocument: documentText(last) };
            document.getElementById("first").click();
            for (var i = 0; i <= last; i++) {
              if (i > 0) document.getElementById("forward").click();
              trace.kinds.push(frames[current][0]);
              trace.steps.push(frames[current][2]);
              trace.labels.push(parseInt(/frame (\\d+)/.exec(label.textContent)[1], 10));
              trace.masks.push(article.textContent.split(MASK).length - 1);
            }
            trace.lastArticle = spans.map(function (s) { return s.textContent; });
            document.body.dataset.trace = encodeURIComponent(JSON.stringify(trace));
          }
          show(match ? parseInt(match[1], 10) : last);
        })();
        """
}
