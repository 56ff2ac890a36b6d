import Yams

/// A YAML value with the position it came from: the tree the strict spec decoders walk.
///
/// Built from Yams' composed `Node` so every key and value keeps its line and column; the
/// decoders then report unknown keys, wrong types and bad values exactly where they are.
package struct YAMLNode: Sendable {
    /// One `key: value` pair of a mapping, in document order.
    package struct Entry: Sendable {
        package var key: String
        package var keyLocation: SourceLocation
        package var value: YAMLNode
    }

    package enum Kind: Sendable {
        /// A scalar's text; `isNull` for `~`, `null` or an empty plain value.
        case scalar(String, isNull: Bool, isQuoted: Bool)
        case sequence([YAMLNode])
        case mapping([Entry])
    }

    package var kind: Kind
    package var location: SourceLocation

    package init(kind: Kind, location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// What this node is, for "expected X, found Y" messages.
    package var kindName: String {
        switch kind {
        case .scalar(_, let isNull, _): return isNull ? "nothing (null)" : "a scalar"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }

    package var isNull: Bool {
        if case .scalar(_, true, _) = kind { return true }
        return false
    }
}

/// Parses YAML text into a ``YAMLNode`` tree, turning Yams' errors into ``Diagnostic``s.
package enum YAMLParsing {
    /// Maps a Yams mark (1-based line and column within the parsed text) to a place in the file.
    package typealias Locator = @Sendable (_ line: Int, _ column: Int) -> SourceLocation

    /// Parses one YAML document; nil for an empty document.
    package static func parse(_ text: String, locate: Locator) throws(Diagnostic) -> YAMLNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw convert(error, text: text, locate: locate)
        } catch {
            throw Diagnostic("cannot read YAML: \(error)", at: locate(1, 1))
        }
        guard let root else { return nil }
        var budget = maxNodes
        return try convert(root, locate: locate, budget: &budget)
    }

    /// Most nodes a document may expand to. Anchors and aliases share nodes, so a few hundred
    /// bytes can name billions of them (an alias bomb); pipelines and front matter need hundreds.
    package static let maxNodes = 20_000

    private static func convert(_ node: Node, locate: Locator, budget: inout Int) throws(Diagnostic) -> YAMLNode {
        let location = node.mark.map { locate($0.line, $0.column) } ?? locate(1, 1)
        budget -= 1
        guard budget >= 0 else {
            throw Diagnostic("the YAML expands to more than \(maxNodes) values", at: location,
                                hint: "anchors and aliases (&name, *name) that repeat each other are refused; write the values out")
        }
        switch node {
        case .scalar(let scalar):
            let quoted = scalar.style != .plain && scalar.style != .any
            let isNull = !quoted && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
            return YAMLNode(kind: .scalar(scalar.string, isNull: isNull, isQuoted: quoted), location: location)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for item in sequence { items.append(try convert(item, locate: locate, budget: &budget)) }
            return YAMLNode(kind: .sequence(items), location: location)
        case .mapping(let mapping):
            var entries: [YAMLNode.Entry] = []
            for (key, value) in mapping {
                let keyLocation = key.mark.map { locate($0.line, $0.column) } ?? location
                guard case .scalar(let keyScalar) = key else {
                    throw Diagnostic("a mapping key must be a plain name, not a list or mapping", at: keyLocation)
                }
                entries.append(YAMLNode.Entry(key: keyScalar.string, keyLocation: keyLocation,
                                              value: try convert(value, locate: locate, budget: &budget)))
            }
            return YAMLNode(kind: .mapping(entries), location: location)
        case .alias(let alias):
            throw Diagnostic("unresolved YAML alias '*\(alias.anchor.rawValue)'", at: location)
        }
    }

    private static func convert(_ error: YamlError, text: String, locate: Locator) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line) of the YAML)" }
            return Diagnostic(message, at: locate(mark.line, mark.column), hint: hint(forProblem: problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let second = secondOccurrence(of: key, after: context.mark, in: text)
            let place = second ?? (context.mark.line, context.mark.column)
            return Diagnostic(
                "duplicate key '\(key)' (already given at line \(context.mark.line))",
                at: locate(place.0, place.1), hint: "each key may appear once in a mapping; remove or merge one of them")
        case .reader(let problem, let offset, _, _):
            let position = offset.map { lineAndColumn(ofScalarOffset: $0, in: text) } ?? (1, 1)
            return Diagnostic("cannot read YAML: \(problem)", at: locate(position.0, position.1))
        default:
            return Diagnostic("cannot read YAML: \(error)", at: locate(1, 1))
        }
    }

    private static func hint(forProblem problem: String) -> String? {
        if problem.contains("mapping values are not allowed") {
            return "a value containing ': ' must be quoted"
        }
        if problem.contains("found character that cannot start any token") {
            return "tabs cannot indent YAML; use spaces, or quote the value"
        }
        return nil
    }

    /// Where `key:` appears again after the first occurrence at `mark` (Yams reports only the
    /// first one, but the second is the one to remove). Nil when it cannot be found textually.
    private static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (Int, Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let patterns = [key, "\"\(key)\"", "'\(key)'"].map { Array(($0 + ":").unicodeScalars) }
        func match(_ line: [Unicode.Scalar], at i: Int) -> Bool {
            patterns.contains { p in i + p.count <= line.count && Array(line[i..<(i + p.count)]) == p }
        }
        // Same line first (flow mappings), after the first occurrence.
        let first = lines[mark.line - 1]
        var i = mark.column
        while i < first.count {
            if match(first, at: i), i == 0 || [" ", "{", ","].contains(first[i - 1]) { return (mark.line, i + 1) }
            i += 1
        }
        for index in mark.line..<lines.count {
            let line = lines[index]
            var j = 0
            while j < line.count, line[j] == " " || line[j] == "-" { j += 1 }
            if j + 1 == mark.column, match(line, at: j) { return (index + 1, j + 1) }
        }
        return nil
    }

    private static func lineAndColumn(ofScalarOffset offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for (i, scalar) in text.unicodeScalars.enumerated() {
            if i >= offset { break }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}
