
/// Strict readers over ``YAMLNode``: every wrong type, bad value or unknown key is a
/// ``Diagnostic`` at the offending node, with a "did you mean" where a key is close.
extension YAMLNode {
    /// The entries of a mapping keyed by name, refusing keys outside `allowed`.
    ///
    /// Duplicate keys were already refused by the parser.
    package func mapping(allowed: [String], what: String) throws -> [String: Entry] {
        guard case .mapping(let entries) = kind else {
            throw Diagnostic("\(what) must be a mapping of keys to values, found \(kindName)", at: location)
        }
        var out: [String: Entry] = [:]
        for entry in entries {
            guard allowed.contains(entry.key) else {
                throw Diagnostic(
                    "unknown key '\(entry.key)' in \(what)", at: entry.keyLocation,
                    hint: EditDistance.hint(for: entry.key, among: allowed))
            }
            out[entry.key] = entry
        }
        return out
    }

    /// The entries of a mapping whose keys are user-chosen names (fields, variables, tones).
    package func namedEntries(what: String) throws -> [Entry] {
        if isNull { return [] }
        guard case .mapping(let entries) = kind else {
            throw Diagnostic("\(what) must be a mapping of names to values, found \(kindName)", at: location)
        }
        return entries
    }

    /// A scalar as text (numbers and booleans included, as written).
    package func string(_ what: String) throws -> String {
        guard case .scalar(let text, let isNull, _) = kind, !isNull else {
            throw Diagnostic("\(what) must be text, found \(kindName)", at: location)
        }
        return text
    }

    /// A scalar as text, or nil for an explicit null.
    package func optionalString(_ what: String) throws -> String? {
        isNull ? nil : try string(what)
    }

    /// An integer within `range`.
    package func int(_ what: String, in range: ClosedRange<Int>) throws -> Int {
        try bounded(what, in: range, kind: "a whole number", parse: { Int($0.replacingUnderscores()) }, shown: { "\($1)" })
    }

    /// A non-negative integer of up to 64 bits (seeds).
    package func uint64(_ what: String) throws -> UInt64 {
        let text = try scalarText(what, expected: "a whole number")
        let digits = text.replacingUnderscores()
        if digits.hasPrefix("0x"), let value = UInt64(digits.dropFirst(2), radix: 16) { return value }
        guard let value = UInt64(digits) else {
            throw Diagnostic("\(what) must be a whole number from 0 to \(UInt64.max), found '\(text)'", at: location)
        }
        return value
    }

    /// A number within `range`.
    package func double(_ what: String, in range: ClosedRange<Double>) throws -> Double {
        try bounded(what, in: range, kind: "a number", parse: { Double($0).flatMap { $0.isFinite ? $0 : nil } },
                    shown: { text, _ in text })
    }

    /// A scalar that `parse` reads as `kind` and that lies in `range`; `shown` writes the value
    /// found in the out-of-range message.
    private func bounded<Value: Comparable>(
        _ what: String, in range: ClosedRange<Value>, kind: String, parse: (String) -> Value?,
        shown: (String, Value) -> String
    ) throws -> Value {
        let text = try scalarText(what, expected: kind)
        guard let value = parse(text) else {
            throw Diagnostic("\(what) must be \(kind), found '\(text)'", at: location)
        }
        guard range.contains(value) else {
            throw Diagnostic("\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(shown(text, value))",
                                at: location)
        }
        return value
    }

    /// `true`/`false` (also yes/no, on/off, as YAML 1.1 users write them).
    package func bool(_ what: String) throws -> Bool {
        let text = try scalarText(what, expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw Diagnostic("\(what) must be true or false, found '\(text)'", at: location)
        }
    }

    /// One of `choices`.
    package func choice(_ what: String, among choices: [String]) throws -> String {
        let text = try scalarText(what, expected: "one of " + choices.joined(separator: ", "))
        guard choices.contains(text) else {
            throw Diagnostic("\(what) must be one of \(choices.joined(separator: ", ")), found '\(text)'",
                                at: location, hint: EditDistance.didYouMean(text, among: choices))
        }
        return text
    }

    /// A list of non-empty texts; a single scalar counts as a list of one.
    package func strings(_ what: String) throws -> [Located<String>] {
        switch kind {
        case .scalar(_, true, _):
            return []
        case .scalar(let text, false, _):
            guard !text.isEmpty else { throw Diagnostic("\(what) must not be empty", at: location) }
            return [Located(text, at: location)]
        case .sequence(let items):
            return try items.map { item in
                let text = try item.string("each entry of \(what)")
                guard !text.trimmingSpaces().isEmpty else {
                    throw Diagnostic("an entry of \(what) is empty", at: item.location)
                }
                return Located(text, at: item.location)
            }
        case .mapping:
            throw Diagnostic("\(what) must be a list such as [a, b], found a mapping", at: location,
                                hint: "a value containing ': ' must be quoted")
        }
    }

    private func scalarText(_ what: String, expected: String) throws -> String {
        guard case .scalar(let text, let isNull, _) = kind, !isNull else {
            throw Diagnostic("\(what) must be \(expected), found \(kindName)", at: location)
        }
        return text
    }
}

/// A value and where in a file it was written.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    package func trimmingSpaces() -> String {
        let scalars = Array(unicodeScalars)
        var start = 0, end = scalars.count
        let space: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        while start < end, space(scalars[start]) { start += 1 }
        while end > start, space(scalars[end - 1]) { end -= 1 }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<end])
        return String(out)
    }

    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
