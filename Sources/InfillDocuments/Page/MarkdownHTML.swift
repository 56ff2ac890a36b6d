import Foundation

/// A small Markdown-to-HTML renderer for `fill --html`: ATX headings, paragraphs, bullet and
/// numbered lists, block quotes, fenced code, rules, pipe tables; inline code, bold, italics and
/// links.
///
/// Everything is HTML-escaped first, so template text can never inject markup; characters in the
/// Unicode private use area (the field markers ``FillHTMLPage`` puts in) pass through untouched.
enum MarkdownHTML {
    /// Renders `markdown` as a sequence of HTML blocks.
    static func render(_ markdown: String) -> String {
        var html: [String] = []
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [String])?
        var quote: [String] = []
        var code: [String]?
        var table: [String] = []

        func flushParagraph() {
            if !paragraph.isEmpty { html.append("<p>" + inline(paragraph.joined(separator: "\n")) + "</p>") }
            paragraph = []
        }
        func flushList() {
            if let current = list {
                let tag = current.ordered ? "ol" : "ul"
                html.append("<\(tag)>" + current.items.map { "<li>" + inline($0) + "</li>" }.joined() + "</\(tag)>")
            }
            list = nil
        }
        func flushQuote() {
            if !quote.isEmpty { html.append("<blockquote>" + render(quote.joined(separator: "\n")) + "</blockquote>") }
            quote = []
        }
        func flushTable() {
            if !table.isEmpty { html.append(renderTable(table)) }
            table = []
        }
        func flushAll() {
            flushTable()
            flushParagraph()
            flushList()
            flushQuote()
        }

        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.drop { $0 == " " }
            if var lines = code {
                if trimmed.hasPrefix("```") {
                    html.append("<pre><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>")
                    code = nil
                } else {
                    lines.append(line)
                    code = lines
                }
                continue
            }
            if trimmed.hasPrefix("```") {
                flushAll()
                code = []
                continue
            }
            if trimmed.hasPrefix(">") {
                flushParagraph()
                flushList()
                quote.append(String(trimmed.dropFirst().drop { $0 == " " }))
                continue
            }
            flushQuote()
            if trimmed.hasPrefix("|") && (!table.isEmpty || paragraph.isEmpty) {
                flushParagraph()
                flushList()
                table.append(String(trimmed))
                continue
            }
            flushTable()
            if trimmed.isEmpty {
                flushParagraph()
                flushList()
                continue
            }
            if let level = headingLevel(trimmed) {
                flushAll()
                let text = trimmed.dropFirst(level).drop { $0 == " " }
                html.append("<h\(level)>" + inline(String(text)) + "</h\(level)>")
                continue
            }
            if ["---", "***", "___"].contains(trimmed.filter { $0 != " " }) && paragraph.isEmpty {
                flushAll()
                html.append("<hr>")
                continue
            }
            if let item = listItem(trimmed) {
                flushParagraph()
                if list?.ordered != item.ordered { flushList() }
                if list == nil { list = (item.ordered, []) }
                list?.items.append(item.text)
                continue
            }
            if list != nil, line.hasPrefix("  "), var current = list, !current.items.isEmpty {
                // A continuation line of the last item.
                current.items[current.items.count - 1] += "\n" + trimmed
                list = current
                continue
            }
            flushList()
            paragraph.append(line)
        }
        if let lines = code { html.append("<pre><code>" + escape(lines.joined(separator: "\n")) + "</code></pre>") }
        flushAll()
        return html.joined(separator: "\n")
    }

    /// `| a | b |` rows; a `|---|---|` second row makes the first the header.
    private static func renderTable(_ rows: [String]) -> String {
        func cells(_ row: String) -> [String] {
            var text = Substring(row.trimmingCharacters(in: .whitespaces))
            if text.hasPrefix("|") { text = text.dropFirst() }
            if text.hasSuffix("|") { text = text.dropLast() }
            return text.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let isRule = { (row: String) in cells(row).allSatisfy { !$0.isEmpty && $0.allSatisfy { "-: ".contains($0) } } }
        var body = rows
        var head: [String]?
        if rows.count >= 2, isRule(rows[1]) {
            head = cells(rows[0])
            body = Array(rows.dropFirst(2))
        }
        var html = "<table class=\"md\">"
        if let head { html += "<thead><tr>" + head.map { "<th>" + inline($0) + "</th>" }.joined() + "</tr></thead>" }
        html += "<tbody>" + body.map { "<tr>" + cells($0).map { "<td>" + inline($0) + "</td>" }.joined() + "</tr>" }.joined() + "</tbody>"
        return html + "</table>"
    }

    private static func headingLevel(_ line: Substring) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = line.dropFirst(hashes)
        return rest.isEmpty || rest.first == " " ? hashes : nil
    }

    private static func listItem(_ line: Substring) -> (ordered: Bool, text: String)? {
        if let first = line.first, "-*+".contains(first), line.dropFirst().first == " " {
            return (false, String(line.dropFirst(2)))
        }
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        if !digits.isEmpty, digits.count <= 9 {
            let rest = line.dropFirst(digits.count)
            if rest.hasPrefix(". ") || rest.hasPrefix(") ") { return (true, String(rest.dropFirst(2))) }
        }
        return nil
    }

    /// Inline spans on escaped text: `code`, **bold**, *italics* / _italics_, [text](url).
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let first = rest.first {
            if first == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>" + inline(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])) + "</strong>"
                rest = rest[end.upperBound...]
            } else if first == "*" || first == "_", rest.count > 2, rest.dropFirst().first != " ",
                      let end = rest.dropFirst().firstIndex(of: first) {
                out += "<em>" + inline(String(rest[rest.index(after: rest.startIndex)..<end])) + "</em>"
                rest = rest[rest.index(after: end)...]
            } else if first == "[", let close = rest.firstIndex(of: "]"),
                      rest[rest.index(after: close)...].hasPrefix("("),
                      let paren = rest[close...].firstIndex(of: ")") {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let url = String(rest[rest.index(close, offsetBy: 2)..<paren])
                // Links are shown, never followed automatically; only plain web and mail targets.
                let safe = url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("mailto:") || url.hasPrefix("#")
                out += safe ? "<a href=\"\(escape(url))\" rel=\"noreferrer\">\(inline(label))</a>" : inline(label)
                rest = rest[rest.index(after: paren)...]
            } else {
                out += escape(String(first))
                rest = rest.dropFirst()
            }
        }
        return out
    }

    /// Escapes `&`, `<`, `>`, `"` and `'`.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
