/// How one generated field is to be filled: from a pipeline's `fields:` or a placeholder's
/// inline constraints (`{{summary | words: 20-40, tone: cautious}}`).
public struct FieldSpec: Sendable, Hashable {
    /// Texts that must appear verbatim in the fill.
    public var keywords: [Located<String>] = []
    /// Words that must never appear (in any casing).
    public var avoid: [Located<String>] = []
    /// Length in words.
    public var words: LengthBound?
    /// Length in tokens (of the model's tokenizer).
    public var tokens: LengthBound?
    /// A tone name: built-in or one of the pipeline's `tones:`.
    public var tone: Located<String>?
    /// A sentence placed just before the gap in the model's canvas (never in the output).
    public var instruction: String?
    /// Per-field sampler overrides.
    public var sampling = SamplingSettings()
    /// Where the spec was written.
    public var location: SourceLocation

    public init(location: SourceLocation) { self.location = location }

    /// The keys a field spec accepts.
    static let keys = ["keywords", "avoid", "words", "tokens", "tone", "instruction", "sampling"]

    /// Most words or tokens one field may ask for.
    static let wordLimit = 2000
    static let tokenLimit = 4096

    /// Decodes a field mapping strictly (`what` names it in errors, e.g. "field 'summary'").
    static func decode(_ node: YAMLNode, what: String) throws -> FieldSpec {
        var spec = FieldSpec(location: node.location)
        if node.isNull { return spec }
        let entries = try node.mapping(allowed: keys, what: what)
        if let e = entries["keywords"] { spec.keywords = try e.value.strings("'keywords' of \(what)") }
        if let e = entries["avoid"] { spec.avoid = try e.value.strings("'avoid' of \(what)") }
        if let e = entries["words"] { spec.words = try LengthBound.decode(e.value, what: "'words' of \(what)", limit: wordLimit) }
        if let e = entries["tokens"] { spec.tokens = try LengthBound.decode(e.value, what: "'tokens' of \(what)", limit: tokenLimit) }
        if let e = entries["tone"] { spec.tone = Located(try e.value.string("'tone' of \(what)"), at: e.value.location) }
        if let e = entries["instruction"] { spec.instruction = try e.value.optionalString("'instruction' of \(what)") }
        if let e = entries["sampling"] { spec.sampling = try SamplingSettings.decode(e.value, what: "'sampling' of \(what)") }
        try spec.checkConsistency(what: what)
        return spec
    }

    /// Refuses constraints that contradict each other, whatever the model.
    func checkConsistency(what: String) throws {
        for keyword in keywords {
            let k = keyword.value.lowercased()
            if let clash = avoid.first(where: { a in Self.containsWord(a.value.lowercased(), in: k) }) {
                throw DocumentError(
                    "keyword '\(keyword.value)' of \(what) contains '\(clash.value)', which is also to be avoided",
                    at: keyword.location, hint: "remove it from 'keywords' or from 'avoid'")
            }
        }
        if let words, !keywords.isEmpty {
            let keywordWords = keywords.reduce(0) { $0 + WordCount.count(in: $1.value) }
            if keywordWords > words.max {
                throw DocumentError(
                    "the keywords of \(what) have \(keywordWords) words together, more than 'words' allows (\(words.max))",
                    at: keywords[0].location, hint: "raise 'words' or use fewer keywords")
            }
        }
        if let tokens, !keywords.isEmpty {
            // Every word takes at least one token, so this holds whatever the tokenizer.
            let keywordWords = keywords.reduce(0) { $0 + WordCount.count(in: $1.value) }
            if keywordWords > tokens.max {
                throw DocumentError(
                    "the keywords of \(what) have \(keywordWords) words, more than the \(tokens.max) tokens 'tokens' allows",
                    at: keywords[0].location, hint: "raise 'tokens' or use fewer keywords")
            }
        }
        if let tokens, let words, tokens.max < words.min {
            throw DocumentError("\(what) asks for at least \(words.min) words in at most \(tokens.max) tokens",
                                at: location, hint: "every word takes at least one token; raise 'tokens' or lower 'words'")
        }
    }

    /// Whether every one of `words` occurs in `text` as a whole word: how a keyword is checked.
    static func containsWords(_ words: [String], in text: String) -> Bool {
        words.allSatisfy { containsWord($0, in: text) }
    }

    /// Whether `word` occurs in `text` as a whole word (not inside a longer word).
    static func containsWord(_ word: String, in text: String) -> Bool {
        let w = Array(word.unicodeScalars), t = Array(text.unicodeScalars)
        guard !w.isEmpty, w.count <= t.count else { return false }
        for start in 0...(t.count - w.count) where Array(t[start..<(start + w.count)]) == w {
            let before = start == 0 || !WordCount.isWordScalar(t[start - 1])
            let after = start + w.count == t.count || !WordCount.isWordScalar(t[start + w.count])
            if before && after { return true }
        }
        return false
    }
}

/// Word counting as the length constraints mean it: runs of non-space characters.
public enum WordCount {
    /// The number of whitespace-separated words in `text`.
    public static func count(in text: String) -> Int {
        var count = 0, inWord = false
        for scalar in text.unicodeScalars {
            let space = scalar.properties.isWhitespace
            if !space && !inWord { count += 1 }
            inWord = !space
        }
        return count
    }

    /// Letters, digits and the apostrophe: what a whole-word match may not touch.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "'" || scalar == "_"
    }
}
