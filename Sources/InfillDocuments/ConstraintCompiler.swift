import InfillModel
import InfillSampling

/// A field's constraints in the sampler's terms: gap length and ``GapConstraints``.
public struct CompiledField: Sendable {
    /// Mask tokens and minimum kept tokens.
    public var budget: LengthBudget
    /// Keywords (pinned), banned sequences, tone bias, null tail.
    public var constraints: GapConstraints
}

/// Compiles a ``PlannedField`` onto the sampler's API for one tokenizer.
///
/// - `keywords` → the token sequence of `" keyword"` (leading space: keywords usually stand
///   mid-sentence), placed by the sampler where the model finds it most likely, then pinned.
/// - `avoid` → banned sequences for `word`, `Word`, `WORD` and the word as written, each with and
///   without a leading space.
/// - `words`/`tokens` → a ``LengthBudget`` with a removable null tail.
/// - `tone` → logit biases from ``ToneBiasCompiler``.
/// - every field → special tokens, placeholder brackets, code fences and ``StockPhrases``
///   excluded; in a quoted field, quotation marks too (a keyword that holds one keeps it free).
public struct ConstraintCompiler: Sendable {
    public let tokenizer: any Tokenizer
    public let model: any DenoisingModel
    /// The tokenizer's tokens per word on English prose.
    public let tokensPerWord: Double

    /// Special tokens other than the null token (chat markers, end-of-text variants): never
    /// wanted inside a document, so every gap biases them down to nothing.
    public let specialTokenBias: [TokenID: Float]

    /// Tokens that are only whitespace with a line break: they end an in-line field (which
    /// stays on its line).
    public let lineBreakTokens: [TokenID]
    /// Tokens that are only whitespace holding a blank line: they end a block field, so a field
    /// stops where its paragraph does instead of running on into a copy of the template's next
    /// section.
    public let paragraphBreakTokens: [TokenID]
    /// Tokens with text and a line break in one (`".\n\n"`): banned in in-line fields, and those
    /// with a blank line banned in block fields, so a field ends only through a clean break.
    public let mixedBreakTokens: [TokenID]
    public let mixedParagraphBreakTokens: [TokenID]
    /// The sampler's rules against repeated words, n-grams and filler, shared by every field.
    public let repetition: RepetitionGuard
    /// Tokens a paragraph or heading field may not open with: everything whose text (after leading spaces)
    /// does not start with a letter — quotes, parentheses, numbers (`1.`), list markers,
    /// dashes, headings, tables, emoji and partial UTF-8 bytes. A field opens with prose; the
    /// template writes `- {{item}}` or `1. {{item}}` where it wants a list.
    public let openingBans: Set<TokenID>
    /// Tokens that are only sentence-ending punctuation (`.`, ` .`, `!`, `?`, `...`): what the
    /// closing pressure of a block field favours near its length.
    public let sentenceEndTokens: Set<TokenID>
    /// Tokens that open a Markdown heading (`#` to `######`, alone or with a space): after a line
    /// break they are banned in block fields, whose text never holds a heading of its own (the
    /// template holds the structure; small models copy its title into a field).
    public let headingTokens: [TokenID]
    /// Tokens that continue the word before them (no leading space; a letter, a digit or a
    /// non-ASCII byte first): banned right after a keyword.
    public let wordContinuationTokens: Set<TokenID>
    /// Tokens holding a square bracket or a curly brace: what fill-in-the-blank placeholders
    /// ("[Your Name]", "[App Name]", "{date}") are made of. Excluded from every field whose
    /// keywords have none, so a filled document never hands a blank back to its reader.
    public let placeholderTokens: [TokenID]
    /// Tokens holding a double quotation mark (`"`, `“`, `”`): excluded from a field the template
    /// quotes, whose fill would otherwise close the quote early (`"TideTech" is a product…" said`).
    public let quoteTokens: [TokenID]
    /// Tokens holding a code fence (three backticks): a fence a fill opens and never closes
    /// turns the rest of the document into code.
    public let fenceTokens: [TokenID]
    /// ``StockPhrases`` as token sequences, with and without a leading space, by phrase.
    let stockPhraseSequences: [(phrase: String, sequences: [[TokenID]])]

    public init(tokenizer: any Tokenizer, model: any DenoisingModel) {
        self.tokenizer = tokenizer
        self.model = model
        self.tokensPerWord = LengthBudget.tokensPerWord(tokenizer)
        var bias: [TokenID: Float] = [:]
        var breaks: [TokenID] = [], paragraphs: [TokenID] = [], mixed: [TokenID] = [], mixedParagraphs: [TokenID] = []
        var openingBans: Set<TokenID> = [], sentenceEnds: Set<TokenID> = [], headings: [TokenID] = []
        var continuations: Set<TokenID> = [], placeholders: [TokenID] = [], quotes: [TokenID] = [], fences: [TokenID] = []
        let count = min(tokenizer.vocabularySize, model.samplableVocabularySize)
        for raw in 0..<count {
            let id = TokenID(raw)
            guard id != model.nullTokenID, id != model.maskTokenID else { continue }
            if tokenizer.isSpecial(id) {
                bias[id] = -1e4
                continue
            }
            let bytes = tokenizer.bytes(of: id)
            let marks = bytes.drop { $0 == 0x20 }
            if bytes.contains(where: { $0 == 0x5B || $0 == 0x5D || $0 == 0x7B || $0 == 0x7D }) { placeholders.append(id) }
            if bytes.contains(0x22) || Self.holds(bytes, "“") || Self.holds(bytes, "”") { quotes.append(id) }
            if Self.holds(bytes, "```") { fences.append(id) }
            if !Self.opensProse(Array(marks)) { openingBans.insert(id) }
            if let first = bytes.first, first >= 0x80 || Character(UnicodeScalar(first)).isLetter || Character(UnicodeScalar(first)).isNumber {
                continuations.insert(id)
            }
            if !marks.isEmpty, marks.allSatisfy({ $0 == 0x2E || $0 == 0x21 || $0 == 0x3F }) { sentenceEnds.insert(id) }
            let hashes = bytes.prefix { $0 == 0x23 }.count
            if (1...6).contains(hashes), bytes.count == hashes || bytes[hashes] == 0x20 { headings.append(id) }
            guard bytes.contains(0x0A) else { continue }
            let newlines = bytes.filter { $0 == 0x0A }.count
            if bytes.allSatisfy({ $0 == 0x0A || $0 == 0x0D || $0 == 0x20 || $0 == 0x09 }) {
                breaks.append(id)
                if newlines >= 2 { paragraphs.append(id) }
            } else {
                mixed.append(id)
                if newlines >= 2 { mixedParagraphs.append(id) }
            }
        }
        self.specialTokenBias = bias
        self.lineBreakTokens = breaks
        self.paragraphBreakTokens = paragraphs
        self.mixedBreakTokens = mixed
        self.mixedParagraphBreakTokens = mixedParagraphs
        self.openingBans = openingBans
        self.sentenceEndTokens = sentenceEnds
        self.headingTokens = headings
        self.wordContinuationTokens = continuations
        self.placeholderTokens = placeholders
        self.quoteTokens = quotes
        self.fenceTokens = fences
        self.stockPhraseSequences = StockPhrases.all.map { phrase in
            (phrase, Array(Set([tokenizer.encode(phrase), tokenizer.encode(" " + phrase)].filter { !$0.isEmpty })).sorted { $0.lexicographicallyPrecedes($1) })
        }
        // Three words' worth of tokens: a trigram for English BPE, about 13 bytes for a byte tokenizer.
        let ngram = max(3, Int((3 * tokensPerWord / 1.3).rounded()))
        self.repetition = RepetitionGuard(vocabularySize: count, bytes: { tokenizer.bytes(of: $0) }, ngram: ngram)
    }

    /// The keyword's tokens as pinned in the canvas.
    public func keywordTokens(_ keyword: String) -> [TokenID] {
        tokenizer.encode(keyword.hasPrefix(" ") ? keyword : " " + keyword)
    }

    /// The banned token sequences for one avoided word.
    public func bannedSequences(for word: String) -> [[TokenID]] {
        let lower = word.lowercased()
        let variants = [word, lower, lower.prefix(1).uppercased() + lower.dropFirst(), word.uppercased()]
        var out: [[TokenID]] = []
        var seen: Set<[TokenID]> = []
        for variant in variants {
            for text in [" " + variant, variant] {
                let ids = tokenizer.encode(text)
                if !ids.isEmpty, seen.insert(ids).inserted { out.append(ids) }
            }
        }
        return out
    }

    /// Repetition guard: banned sequences `[t, t, t]` for each of `tripled` and `[t, t]` for each
    /// of `doubled`. Small models fall into loops ("the the the", a keyword or a tone word over and
    /// over); legitimate prose almost never repeats a token three times in a row.
    public static func repetitionBans(tripled: Set<TokenID>, doubled: Set<TokenID>) -> [[TokenID]] {
        doubled.sorted().map { [$0, $0] } + tripled.subtracting(doubled).sorted().map { [$0, $0, $0] }
    }

    /// Whether `bytes` hold the UTF-8 of `text` somewhere.
    static func holds(_ bytes: [UInt8], _ text: String) -> Bool {
        let pattern = Array(text.utf8)
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return false }
        return (0...(bytes.count - pattern.count)).contains { bytes[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    /// Whether token text (leading spaces removed) may open a paragraph: it starts with a letter
    /// and is whole UTF-8. Not a quotation mark or a parenthesis: where the small model wants
    /// one there it writes a quote it never closes (`"Dana Lee is a professional SEO
    /// specialist…`) or numbers its sentences (`(1) The team has completed…`).
    static func opensProse(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self), let first = text.first else { return false }
        return first.isLetter
    }

    /// The closing pressure of a block field: from 55 % of its maximum length (in tokens, the word
    /// maximum at the tokenizer's ratio) to full strength at 90 %, never before its minimum.
    func closingPressure(_ field: PlannedField, budget: LengthBudget) -> ClosingPressure? {
        let maximum: Int
        if let words = field.spec.words ?? (field.spec.tokens == nil ? LengthBudget.defaultWords : nil) {
            maximum = Int((Double(words.max) * tokensPerWord).rounded())
        } else if let tokens = field.spec.tokens {
            maximum = tokens.max
        } else {
            return nil
        }
        // Full strength a little before the maximum, so the sentence ends inside the bound rather
        // than being trimmed at it; the product with the parent doubles the logit scale, hence 6.
        let full = min(maximum * 9 / 10, budget.maskTokens)
        guard !sentenceEndTokens.isEmpty, full > budget.minTokens else { return nil }
        return ClosingPressure(sentenceEnds: sentenceEndTokens, from: max(budget.minTokens, maximum * 55 / 100), full: full,
                               strength: 6)
    }

    /// Most tokens a field's repetition guard covers (each is a banned sequence checked per commit).
    public static let repetitionGuardLimit = 600

    /// Compiles one field; `toneBias` is the (cached) bias of its tone, if any; `contextTokens`
    /// are the document's own tokens, guarded against being tripled.
    ///
    /// - Throws: ``DocumentError`` at the keyword when the keywords cannot fit the field's length.
    public func compile(_ field: PlannedField, toneBias: [TokenID: Float], contextTokens: Set<TokenID> = []) throws -> CompiledField {
        let keywords = field.spec.keywords.map { keywordTokens($0.value) }
        let keywordTotal = keywords.reduce(0) { $0 + $1.count }
        if let tokens = field.spec.tokens, keywordTotal > tokens.max, let first = field.spec.keywords.first {
            throw DocumentError(
                "the keywords of field '\(field.name)' take \(keywordTotal) tokens, more than 'tokens' allows (\(tokens.max))",
                at: first.location, hint: "raise 'tokens' or shorten the keywords")
        }
        let limit = max(1, model.maxSequenceLength / 2)
        if keywordTotal > limit, let first = field.spec.keywords.first {
            throw DocumentError("the keywords of field '\(field.name)' take \(keywordTotal) tokens, more than the model can place (\(limit))",
                                at: first.location)
        }
        var budget = LengthBudget.make(words: field.spec.words, tokens: field.spec.tokens,
                                       tokensPerWord: tokensPerWord, keywordTokens: keywordTotal)
        if field.spec.tokens == nil { budget.maskTokens = max(budget.maskTokens, keywordTotal + 2) }
        budget.maskTokens = min(budget.maskTokens, limit)
        // What a field never writes unless one of its keywords asks for it.
        func asked(_ holds: (String) -> Bool) -> Bool { field.spec.keywords.contains { holds($0.value) } }
        var banned = field.spec.avoid.flatMap { bannedSequences(for: $0.value) }
        for (phrase, sequences) in stockPhraseSequences where !asked({ $0.contains(phrase) }) {
            banned += sequences
        }
        // Keyword tokens and the most favoured tone tokens may not even double; the document's
        // own tokens may not triple.
        var doubled = Set(keywords.flatMap { $0 })
        for (id, value) in toneBias.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }).prefix(Self.repetitionGuardLimit / 2)
        where value > 0 { doubled.insert(id) }
        let tripled = Set(contextTokens.sorted().prefix(Self.repetitionGuardLimit))
        banned += Self.repetitionBans(tripled: tripled, doubled: doubled)
        var bias = toneBias.merging(specialTokenBias) { _, special in special }
        for id in field.isInline ? mixedBreakTokens : mixedParagraphBreakTokens { bias[id] = -1e4 }
        var excluded: [TokenID] = []
        if !asked({ $0.contains(where: { "[]{}".contains($0) }) }) { excluded += placeholderTokens }
        if !asked({ $0.contains("```") }) { excluded += fenceTokens }
        if field.isQuoted, !asked({ $0.contains(where: { "\"“”".contains($0) }) }) { excluded += quoteTokens }
        for id in excluded { bias[id] = -1e4 }
        let ends = Set(field.isInline ? lineBreakTokens : paragraphBreakTokens)
        var constraints = GapConstraints(
            keywords: keywords, bannedSequences: banned, logitBias: bias,
            allowsNullTail: budget.minTokens < budget.maskTokens, minTokens: budget.minTokens,
            endTokens: ends, repetition: repetition)
        if !keywords.isEmpty {
            constraints.afterKeywordBans = wordContinuationTokens
            constraints.midSentenceKeywords = Set(field.spec.keywords.indices.filter { k in
                field.spec.keywords[k].value.drop { $0 == " " }.first?.isLowercase ?? false
            })
            if !constraints.midSentenceKeywords.isEmpty {
                constraints.sentenceBoundaries = sentenceEndTokens.union(lineBreakTokens)
            }
            // In a paragraph a keyword that does not fit its sentence can open the next one,
            // after an article (a verb's subjects are the filler's, which has the parent to tell
            // them apart: ``KeywordOpening``); a title, list item or cell is one phrase.
            if !field.isInline { constraints.keywordOpeners = openerTokens(.afterArticle) }
        }
        if !field.isInline || field.isHeading { constraints.firstTokenBans = openingBans }
        if !field.isInline {
            constraints.bannedSequences += lineBreakTokens.flatMap { line in headingTokens.map { [line, $0] } }
        }
        constraints.closing = closingPressure(field, budget: budget)
        return CompiledField(budget: budget, constraints: constraints)
    }
}
