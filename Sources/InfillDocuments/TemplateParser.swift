/// Parses template bytes into a ``Template``, with file:line:column errors.
///
/// Syntax: an optional front matter block (`---` line, YAML mapping, `---` or `...` line) at the
/// very start; `{{name}}` and `{{name | key: value, …}}` placeholders, whose constraints are a
/// YAML flow mapping without its braces; `{{{{` for a literal `{{` and `}}}}` for a literal `}}`.
public enum TemplateParser {
    /// Parses a template.
    /// - Parameters:
    ///   - bytes: the file's contents (UTF-8).
    ///   - file: the path used in error messages.
    public static func parse(_ bytes: [UInt8], file: String) throws -> Template {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            let (line, column) = firstInvalidUTF8(bytes)
            throw DocumentError("the template is not valid UTF-8", file: file, line: line, column: column,
                                hint: "save it as UTF-8 text")
        }
        var cursor = Cursor(bytes: bytes, file: file)
        let frontMatter = try parseFrontMatter(&cursor)
        var segments: [TemplateSegment] = []
        var literal: [UInt8] = []
        while !cursor.atEnd {
            if cursor.hasPrefix("{{{{") {
                literal += [0x7B, 0x7B]
                cursor.advance(4)
            } else if cursor.hasPrefix("}}}}") {
                literal += [0x7D, 0x7D]
                cursor.advance(4)
            } else if cursor.hasPrefix("{{") {
                if !literal.isEmpty { segments.append(.literal(literal)); literal = [] }
                segments.append(.placeholder(try parsePlaceholder(&cursor)))
            } else {
                literal.append(cursor.current)
                cursor.advance(1)
            }
        }
        if !literal.isEmpty { segments.append(.literal(literal)) }
        return Template(file: file, frontMatter: frontMatter, segments: segments)
    }

    // MARK: Front matter

    private static func parseFrontMatter(_ cursor: inout Cursor) throws -> FrontMatter? {
        guard cursor.hasPrefix("---\n") || cursor.hasPrefix("---\r\n") else { return nil }
        let openLocation = cursor.location
        cursor.skipLine()
        let yamlStart = cursor.offset
        var yamlEnd: Int?
        while !cursor.atEnd {
            let lineStart = cursor.offset
            let line = cursor.restOfLine()
            let trimmed = line.trimmingSpaces()
            cursor.skipLine()
            if trimmed == "---" || trimmed == "..." { yamlEnd = lineStart; break }
        }
        guard let yamlEnd else {
            throw DocumentError("the front matter opened here is never closed", at: openLocation,
                                hint: "end it with a line '---', or remove the first line if it is not front matter")
        }
        let blockBytes = Array(cursor.bytes[0..<cursor.offset])
        let yamlText = String(decoding: cursor.bytes[yamlStart..<yamlEnd], as: UTF8.self)
        let file = cursor.file
        // The YAML starts on line 2 of the file.
        let root = try YAMLParsing.parse(yamlText) { SourceLocation(file: file, line: $0 + 1, column: $1) }
        var frontMatter = FrontMatter(bytes: blockBytes, pipeline: nil, values: [:], structuredKeys: [:])
        guard let root else { return frontMatter }
        for entry in try root.namedEntries(what: "the front matter") {
            if entry.key == "pipeline" {
                frontMatter.pipeline = Located(try entry.value.string("'pipeline'"), at: entry.value.location)
                continue
            }
            switch entry.value.kind {
            case .scalar(let text, let isNull, _):
                if !isNull { frontMatter.values[entry.key] = Located(text, at: entry.value.location) }
            case .sequence, .mapping:
                frontMatter.structuredKeys[entry.key] = entry.keyLocation
            }
        }
        return frontMatter
    }

    // MARK: Placeholders

    private static func parsePlaceholder(_ cursor: inout Cursor) throws -> Placeholder {
        let open = cursor.location
        cursor.advance(2)
        let contentStart = cursor
        var end: Cursor?
        var scan = cursor
        // After the '|', braces of nested flow mappings and quoted strings may hold '}}'.
        var afterBar = false, depth = 0
        var quote: UInt8?
        var closerInside: SourceLocation?  // a '}}' swallowed by an open '[' / '{' / quote
        var previous: UInt8 = 0x7C  // last non-space byte: a quote opens a scalar only after one of |:,[{
        while !scan.atEnd {
            let byte = scan.current
            if (quote != nil || depth > 0), closerInside == nil, scan.hasPrefix("}}") { closerInside = scan.location }
            if let q = quote {
                if byte == q { quote = nil }
                scan.advance(1)
                continue
            }
            if depth == 0, scan.hasPrefix("}}") { end = scan; break }
            if depth == 0, scan.hasPrefix("{{") {
                throw DocumentError("placeholder is not closed before the next '{{' (line \(scan.location.line))", at: open,
                                    hint: "close it with '}}', or write '{{{{' for a literal '{{'")
            }
            if byte == 0x7C { afterBar = true }
            if afterBar {
                if byte == 0x22 || byte == 0x27, [0x7C, 0x3A, 0x2C, 0x5B, 0x7B].contains(previous) { quote = byte }
                if byte == 0x7B || byte == 0x5B { depth += 1 }
                if (byte == 0x7D || byte == 0x5D) && depth > 0 { depth -= 1 }
                if byte != 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { previous = byte }
            }
            scan.advance(1)
        }
        if end == nil, let closerInside {
            throw DocumentError("the constraints of this placeholder have an unclosed '[', '{' or quote before the '}}' at line \(closerInside.line), column \(closerInside.column)",
                                at: open, hint: "balance the brackets and quotes, e.g. keywords: [a, b]")
        }
        guard let end else {
            throw DocumentError("unterminated placeholder", at: open,
                                hint: "close it with '}}' (check quotes and braces in its constraints), or write '{{{{' for a literal '{{'")
        }
        let content = Array(cursor.bytes[contentStart.offset..<end.offset])
        cursor = end
        cursor.advance(2)

        // Split at the first '|': name, then constraints.
        let bar = content.firstIndex(of: 0x7C)
        let nameBytes = bar.map { Array(content[..<$0]) } ?? content
        var nameCursor = contentStart
        while nameCursor.offset < end.offset, nameCursor.current == 0x20 || nameCursor.current == 0x09 || nameCursor.current == 0x0A || nameCursor.current == 0x0D {
            nameCursor.advance(1)
        }
        let name = String(decoding: nameBytes, as: UTF8.self).trimmingSpaces()
        guard !name.isEmpty else {
            throw DocumentError("placeholder has no name", at: open,
                                hint: "write {{name}}, or '{{{{' for a literal '{{'")
        }
        guard Placeholder.isValidName(name) else {
            let bad = name.unicodeScalars.first { !($0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
            var hint = "names are letters, digits, '_' and '-', starting with a letter or '_'"
            if name.contains(":") { hint = "constraints follow a '|': {{summary | words: 20-40}}" }
            if name.hasPrefix("{") { hint = "write '{{{{' for a literal '{{'" }
            throw DocumentError("invalid placeholder name '\(name)'" + (bad.map { " (character '\($0)')" } ?? ""),
                                at: nameCursor.location, hint: hint)
        }
        var placeholder = Placeholder(name: name, location: open, constraints: nil)
        if let bar {
            var constraintCursor = contentStart
            constraintCursor.advance(bar + 1)
            let text = String(decoding: content[(bar + 1)...], as: UTF8.self)
            let start = constraintCursor.location
            if text.trimmingSpaces().isEmpty {
                placeholder.constraints = FieldSpec(location: start)
            } else {
                // "{" + text + "}": column 2 of YAML line 1 is the first constraint character.
                let root = try YAMLParsing.parse("{" + text + "}") { line, column in
                    line == 1
                        ? SourceLocation(file: start.file, line: start.line, column: start.column + column - 2)
                        : SourceLocation(file: start.file, line: start.line + line - 1, column: column)
                }
                let node = root ?? YAMLNode(kind: .scalar("", isNull: true, isQuoted: false), location: start)
                placeholder.constraints = try FieldSpec.decode(node, what: "placeholder '\(name)'")
            }
        }
        return placeholder
    }

    private static func firstInvalidUTF8(_ bytes: [UInt8]) -> (Int, Int) {
        var line = 1, column = 1, i = 0
        while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0
            guard length > 0, i + length <= bytes.count,
                  bytes[(i + 1)..<(i + length)].allSatisfy({ $0 & 0xC0 == 0x80 }) else { return (line, column) }
            if b == 0x0A { line += 1; column = 1 } else { column += 1 }
            i += length
        }
        return (line, column)
    }
}

/// A position in template bytes that tracks its line and column (columns in Unicode scalars).
struct Cursor {
    let bytes: [UInt8]
    let file: String
    private(set) var offset = 0
    private(set) var line = 1
    private(set) var column = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var atEnd: Bool { offset >= bytes.count }
    var current: UInt8 { bytes[offset] }
    var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    func hasPrefix(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        let p = text.utf8Start
        for i in 0..<count where bytes[offset + i] != p[i] { return false }
        return true
    }

    mutating func advance(_ count: Int) {
        for _ in 0..<count where offset < bytes.count {
            let b = bytes[offset]
            if b == 0x0A {
                line += 1; column = 1
            } else if b & 0xC0 != 0x80 {
                // Count a scalar at its lead byte; continuation bytes add nothing.
                column += 1
            }
            offset += 1
        }
        // A column is counted at each lead byte, so after a multi-byte scalar we are already right.
    }

    /// The text from here to the end of the line (without the line break).
    func restOfLine() -> String {
        var end = offset
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func skipLine() {
        while !atEnd, current != 0x0A { advance(1) }
        if !atEnd { advance(1) }
    }
}
