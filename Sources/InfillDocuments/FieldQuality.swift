/// How a filled field reads, measured the way a person would judge it at a glance.
///
/// A field is *readable* when it is non-empty prose: no word twice back to back (any casing), no
/// word trigram twice, at most a quarter of its words without letters (digits, dots and dashes
/// used as filler), within its length bound, and it does not run on into a copy of the template
/// text that follows it, a block field ends its last sentence (or its last line is a list item
/// or table row), no field stops on a word that cannot end a clause ("… we're going to be",
/// "… I'm really") or on a word cut in two ("… at the 100-year-"), and no field writes a
/// Markdown heading of its own (the template holds the structure; a heading in a fill is the
/// model copying or inventing document layout), and it
/// closes every quotation mark, parenthesis, code fence and bold mark it opens, and no line of it
/// is without letters (an empty list item `1.`, a bare `2.0.`; table rows aside) or, before the
/// last, ends with a comma (a letter's salutation or sign-off written into the field). Repetition is
/// the share of word trigrams that repeat an earlier one.
public struct FieldQuality: Sendable, Equatable {
    public var words: Int
    /// Share of word trigrams that repeat an earlier trigram of the field (0 = none).
    public var repetition: Double
    /// Share of words with no letters.
    public var filler: Double
    /// A word follows itself somewhere ("the the", "request Request").
    public var stutters: Bool
    /// The text after the field in the template (its first line) appears inside the field.
    public var copiesTemplate: Bool
    /// The field stops mid-clause: a block field's last line is prose without an end mark, or
    /// any field's last word is one that cannot end a clause (an article, a preposition, …).
    public var unfinished: Bool
    public var lengthOK: Bool
    public var keywordsOK: Bool
    public var avoidOK: Bool
    /// A line of the fill is a Markdown heading.
    public var hasHeading = false
    /// A double quotation mark, a parenthesis, a code fence or a bold mark is opened and never
    /// closed (`"Dana Lee is a professional SEO specialist…` with no closing mark).
    public var unbalanced = false
    /// A line holds no letter: an empty list item (`1.`, `-`) or a bare number, where a table
    /// row (`| 3 | 4 |`) is allowed.
    public var letterlessLine = false
    /// A line before the last ends with a comma: a letter's salutation or sign-off
    /// ("Sincere regards,", "Elena Chen,") written into a field the template frames.
    public var commaLine = false

    /// The readable-field verdict (see the type's summary).
    public var readable: Bool {
        words > 0 && !stutters && repetition == 0 && filler <= 0.25 && lengthOK && !copiesTemplate && !unfinished && !hasHeading
            && !unbalanced && !letterlessLine && !commaLine
    }

    /// Whether a line of `text` other than its last ends with a comma.
    static func hasCommaLine(_ text: String) -> Bool {
        let lines = text.split(separator: "\n").map(trimmed).filter { !$0.isEmpty }
        return lines.dropLast().contains { $0.hasSuffix(",") }
    }

    /// Whether a line of `text` other than a table row holds no letter at all.
    static func hasLetterlessLine(_ text: String) -> Bool {
        text.split(separator: "\n").map(trimmed).contains { line in
            !line.isEmpty && !line.hasPrefix("|") && !line.contains(where: \.isLetter)
        }
    }

    /// Whether `text` leaves a double quotation mark, a parenthesis, a code fence or a bold mark
    /// open (straight quotes, fences and `**` pair up; a stray closing parenthesis is a list
    /// marker such as `a)`, not an error).
    static func isUnbalanced(_ text: String) -> Bool {
        // Markdown too: a code fence or bold mark left open runs on through the rest of the document.
        let fences = text.components(separatedBy: "```").count - 1
        let bold = text.replacingOccurrences(of: "```", with: "").components(separatedBy: "**").count - 1
        if fences % 2 != 0 || bold % 2 != 0 { return true }
        var straight = 0, curly = 0, round = 0
        for c in text {
            switch c {
            case "\"": straight += 1
            case "“": curly += 1
            case "”": curly = max(0, curly - 1)
            case "(": round += 1
            case ")": round = max(0, round - 1)
            default: continue
            }
        }
        return straight % 2 != 0 || curly != 0 || round != 0
    }

    /// English words no sentence ends on, even before a full stop ("… for a few.", "… and the.").
    static let neverFinal: Set<String> = [
        "a", "an", "the", "my", "your", "our", "their", "its", "every", "each", "few", "of", "for", "with", "into",
        "and", "or", "but", "nor", "because", "than", "whose", "very",
        "i'm", "we're", "you're", "they're", "i've", "we've", "you've", "i'll", "we'll", "you'll", "i'd", "we'd",
    ]

    /// Words a clause does not end on without a mark after them: prepositions, auxiliaries,
    /// pronouns and intensifiers ("… we're going to be", "… and I'm really").
    static let openEnds: Set<String> = neverFinal.union([
        "to", "by", "at", "in", "on", "from", "about", "as", "via", "onto", "so", "if", "while", "that", "which", "who",
        "is", "are", "was", "were", "be", "been", "being", "am", "will", "would", "shall", "should", "can", "could",
        "may", "might", "must", "has", "have", "had", "really", "quite", "such", "i", "we", "they", "he", "she", "it's",
    ])

    /// Whether `text` stops on a word that cannot end a clause there (lower-cased, letters and
    /// apostrophes): one of ``openEnds`` without a mark after it, or one of ``neverFinal`` at all.
    static func endsDangling(_ text: String) -> Bool {
        guard let last = text.split(whereSeparator: { $0.isWhitespace }).last else { return false }
        if endsCutWord(last) { return true }
        let marked = last.last.map { !($0.isLetter || $0.isNumber || $0 == "'" || $0 == "’") } ?? false
        let word = String(last.lowercased().replacingOccurrences(of: "’", with: "'").filter { $0.isLetter || $0 == "'" })
        return marked ? neverFinal.contains(word) : openEnds.contains(word)
    }

    /// Whether `word` (the field's last) is a word cut in two, a mark after it or not: a hyphen
    /// with nothing after it ("at the 100-year-"), or an apostrophe that is not a plural's
    /// possessive ("held at a local children’.").
    static func endsCutWord(_ word: Substring) -> Bool {
        let core = word.reversed().drop { ".,;:!?".contains($0) }.reversed()
        guard let end = core.last, let before = core.dropLast().last else { return false }
        if end == "-" { return before.isLetter || before.isNumber }
        if end == "'" || end == "’" { return before.isLetter && before.lowercased() != "s" }
        return false
    }

    /// Whether a line of `text` is a Markdown heading (`#` to `######` and a space).
    static func containsHeading(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            let t = trimmed(line)
            let hashes = t.prefix { $0 == "#" }.count
            return (1...6).contains(hashes) && t.dropFirst(hashes).first == " "
        }
    }

    /// Whether a block field's text stops mid-sentence: its last line does not end with a
    /// sentence mark, closing quote, bracket or emphasis, and is prose — a table row or a short
    /// list item (up to 12 words, such as `- Fix the login bug`) may end without one.
    static func isUnfinished(_ text: String) -> Bool {
        guard let last = text.split(separator: "\n").map(trimmed).last(where: { !$0.isEmpty }) else { return false }
        if last.hasPrefix("|") { return false }
        var item = last.hasPrefix("- ") || last.hasPrefix("* ") || last.hasPrefix("+ ")
        if let dot = last.firstIndex(where: { $0 == "." || $0 == ")" }), dot > last.startIndex,
           last[..<dot].allSatisfy(\.isNumber) { item = true }
        if item && WordCount.count(in: last) <= 13 { return false }
        guard let end = last.last else { return false }
        return !".!?:;)\"'*”’…]".contains(end)
    }

    /// Measures `text` as the fill of `field`; `following` is the template text after the field.
    public static func measure(_ text: String, field: PlannedField, following: String = "") -> FieldQuality {
        let raw = text.split(whereSeparator: { $0.isWhitespace })
        let words = raw.map { w in String(w.lowercased().filter { $0.isLetter || $0.isNumber }) }
        var stutters = false
        for i in words.indices.dropFirst() where !words[i].isEmpty && words[i] == words[i - 1] { stutters = true }
        var seen: Set<String> = [], repeats = 0, trigrams = 0
        let content = words.filter { !$0.isEmpty }
        if content.count >= 3 {
            for i in 0...(content.count - 3) {
                let key = content[i] + " " + content[i + 1] + " " + content[i + 2]
                trigrams += 1
                if !seen.insert(key).inserted { repeats += 1 }
            }
        }
        let fillerWords = raw.filter { !$0.contains(where: \.isLetter) }.count
        let firstLine = following.split(separator: "\n").map(trimmed).first { !$0.isEmpty } ?? ""
        let copies = firstLine.count >= 6 && text.contains(firstLine)
        let count = WordCount.count(in: text)
        let lower = text.lowercased()
        return FieldQuality(
            words: count, repetition: trigrams == 0 ? 0 : Double(repeats) / Double(trigrams),
            filler: raw.isEmpty ? 1 : Double(fillerWords) / Double(raw.count), stutters: stutters, copiesTemplate: copies,
            unfinished: (!field.isInline && isUnfinished(text)) || endsDangling(text),
            lengthOK: field.spec.words.map { $0.contains(count) } ?? (count > 0),
            keywordsOK: FieldSpec.containsWords(field.spec.keywords.map(\.value), in: text),
            avoidOK: field.spec.avoid.allSatisfy { !FieldSpec.containsWord($0.value.lowercased(), in: lower) },
            hasHeading: containsHeading(text), unbalanced: isUnbalanced(text),
            letterlessLine: hasLetterlessLine(text), commaLine: hasCommaLine(text))
    }
}

/// `line` without surrounding spaces and tabs.
private func trimmed(_ line: Substring) -> String {
    var s = line
    while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
    return String(s)
}
