import InfillModel

/// One field's generated text after clean-up, with every constraint checked and scored.
public struct FieldOutcome: Sendable {
    /// The text placed into the document.
    public var text: String
    /// Tokens of the kept text.
    public var tokens: Int
    /// Words of the kept text.
    public var words: Int
    /// Keywords that appear verbatim.
    public var keywordsFound: [String]
    /// Avoided words that appear anyway (should always be empty).
    public var avoidedFound: [String]
    /// The tone score, when the field has a tone.
    public var toneScore: Double?
    /// Broken hard constraints, as sentences (empty when the fill is acceptable).
    public var violations: [String]
    /// Higher is better: used to pick the best of several candidates.
    public var score: Double
    /// Whether the text reads as prose (``FieldQuality/readable``).
    public var readable: Bool
    /// How well the field's worst-placed keyword fitted where guided decoding wrote it
    /// (``SamplingResult/keywordFit``: log of its first token's probability over the likeliest
    /// token's there; 0 without keywords).
    public var keywordFit: Float = 0

    /// Below this fit a keyword was forced into a sentence that did not want it (its first token
    /// under a twentieth of the likeliest token's probability): "You can also mobile book
    /// delivery.", "Sincerely key.". The repair pass fills such a field again.
    public static let forcedKeywordFit: Float = -3.0

    /// Whether a keyword was forced in (``keywordFit`` below ``forcedKeywordFit``).
    public var forcedKeyword: Bool { keywordFit < Self.forcedKeywordFit }

    /// Whether this repair of a field should replace its first fill, `first`: it must read as
    /// prose, and where the first fill read but forced a keyword in, fit its keywords better.
    func isBetterRepair(of first: FieldOutcome) -> Bool {
        readable && (!first.readable || keywordFit > first.keywordFit)
    }

    /// Cleans up a gap's decoded text and checks it against the field.
    ///
    /// Clean-up: an in-line field's line breaks become spaces; surrounding whitespace is removed
    /// (the template's own spacing stays); text past the word maximum is cut at a word boundary,
    /// at the end of a sentence where one is in range, never cutting a keyword.
    static func make(raw: String, tokenCount: Int, field: PlannedField, tokenizer: any Tokenizer) -> FieldOutcome {
        var text = raw
        text = field.isInline ? collapseLineBreaks(text) : collapseBlankLines(text)
        text = text.trimmingSpaces()
        var tokens = tokenCount
        let keywords = field.spec.keywords.map(\.value)
        if let bound = field.spec.words, WordCount.count(in: text) > bound.max,
           let cut = trimmed(text, to: bound, keeping: keywords) {
            text = cut
            tokens = tokenizer.encode(text).count
        }
        // A block field that ran out of room mid-sentence ends at its last full sentence instead,
        // when that still meets the minimum and keeps the keywords.
        if !field.isInline, let last = text.last, !".!?:;)\"'*".contains(last),
           let cut = lastSentence(of: text, minWords: field.spec.words?.min ?? 1),
           FieldSpec.containsWords(keywords, in: cut) {
            text = cut
            tokens = tokenizer.encode(text).count
        }
        // A last "sentence" of one or two words is a fragment the length pushed out ("… value. The L.").
        if !field.isInline, let cut = withoutFragment(text, minWords: field.spec.words?.min ?? 1),
           FieldSpec.containsWords(keywords, in: cut) {
            text = cut
            tokens = tokenizer.encode(text).count
        }
        let words = WordCount.count(in: text)
        let found = keywords.filter { FieldSpec.containsWord($0, in: text) }
        let lower = text.lowercased()
        let avoided = field.spec.avoid.map(\.value).filter { FieldSpec.containsWord($0.lowercased(), in: lower) }
        var violations: [String] = []
        if text.isEmpty { violations.append("the fill is empty") }
        if found.count < keywords.count {
            violations.append("missing keywords: " + keywords.filter { !found.contains($0) }.joined(separator: ", "))
        }
        if !avoided.isEmpty { violations.append("contains avoided words: " + avoided.joined(separator: ", ")) }
        if let bound = field.spec.words, !bound.contains(words) {
            violations.append("\(words) words, outside \(bound)")
        }
        if let bound = field.spec.tokens, !bound.contains(tokens) {
            violations.append("\(tokens) tokens, outside \(bound)")
        }
        let toneScore = field.tone.map { $0.score(text) }
        // Hard constraints dominate, then readability (``FieldQuality``); the tone score separates
        // readable candidates, so steering never buys tone with broken prose.
        var score = -100.0 * Double(violations.count)
        let readable = FieldQuality.measure(text, field: field).readable
        if !readable { score -= 50 }
        if let bound = field.spec.words, !bound.contains(words) {
            score -= Double(words < bound.min ? bound.min - words : words - bound.max)
        }
        score += toneScore ?? 0
        return FieldOutcome(text: text, tokens: tokens, words: words, keywordsFound: found, avoidedFound: avoided,
                            toneScore: toneScore, violations: violations, score: score, readable: readable)
    }

    /// `text` without a final sentence of at most two words, if an earlier sentence ends it and
    /// at least `minWords` words stay.
    static func withoutFragment(_ text: String, minWords: Int) -> String? {
        guard let last = text.last, ".!?".contains(last) else { return nil }
        // The previous sentence end: a mark followed by white space (not the dot in "4.99").
        let chars = Array(text.dropLast())
        guard let e = chars.indices.dropLast().last(where: { ".!?".contains(chars[$0]) && chars[$0 + 1].isWhitespace }) else {
            return nil
        }
        let end = text.index(text.startIndex, offsetBy: e)
        let tail = String(chars[(e + 1)...])
        guard WordCount.count(in: tail) <= 2 else { return nil }
        let cut = String(text[...end])
        return WordCount.count(in: cut) >= max(1, minWords) ? cut : nil
    }

    /// `text` up to its last sentence end, if that leaves at least `minWords` words.
    static func lastSentence(of text: String, minWords: Int) -> String? {
        guard let end = text.lastIndex(where: { $0 == "." || $0 == "!" || $0 == "?" }) else { return nil }
        let cut = String(text[...end])
        return WordCount.count(in: cut) >= max(1, minWords) ? cut : nil
    }

    /// Runs of blank lines become one blank line (a paragraph break), trailing spaces on lines go.
    static func collapseBlankLines(_ text: String) -> String {
        var lines: [Substring] = []
        var blank = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.reversed().drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            let kept = line.prefix(trimmed.count)
            if kept.isEmpty {
                blank += 1
                if blank > 1 { continue }
            } else {
                blank = 0
            }
            lines.append(kept)
        }
        return lines.joined(separator: "\n")
    }

    /// Runs of whitespace that contain a line break become one space.
    static func collapseLineBreaks(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pending = String.UnicodeScalarView()
        var pendingHasBreak = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pending.append(scalar)
                if scalar == "\n" || scalar == "\r" { pendingHasBreak = true }
            } else {
                if pendingHasBreak { out.append(" ") } else { out.append(contentsOf: pending) }
                pending = String.UnicodeScalarView()
                pendingHasBreak = false
                out.append(scalar)
            }
        }
        out.append(contentsOf: pending)
        return String(out)
    }

    /// `text` cut after at most `bound.max` words (and at least `bound.min`), keeping every
    /// keyword; prefers the last sentence end in range. Nil when no cut keeps the keywords.
    static func trimmed(_ text: String, to bound: LengthBound, keeping keywords: [String]) -> String? {
        let scalars = Array(text.unicodeScalars)
        // The scalar index just past the end of each word.
        var ends: [Int] = []
        var inWord = false
        for (i, s) in scalars.enumerated() {
            let space = s.properties.isWhitespace
            if inWord && space { ends.append(i) }
            inWord = !space
        }
        if inWord { ends.append(scalars.count) }
        guard ends.count > bound.max else { return text }
        func cut(after words: Int) -> String {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[0..<ends[words - 1]])
            return String(view)
        }
        let lowest = max(1, bound.min)
        let range = Array((lowest...bound.max).reversed())
        let sentenceEnds = range.filter { k in
            let last = scalars[ends[k - 1] - 1]
            return last == "." || last == "!" || last == "?"
        }
        for k in sentenceEnds + range {
            let candidate = cut(after: k)
            if FieldSpec.containsWords(keywords, in: candidate) { return candidate }
        }
        return nil
    }
}
