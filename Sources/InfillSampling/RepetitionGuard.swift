import InfillModel

/// Sampler-level rules that keep generated prose from degenerating: no word twice back to back
/// (in any casing) or on both sides of `and`/`or`/`nor`, no token n-gram twice inside one gap, no
/// runs of punctuation, digits or whitespace used as filler, no number salad (`1.11.2.10.20`).
///
/// Small diffusion models commit the surest tokens first, and the surest tokens are the ones
/// already nearby; after-the-fact scoring cannot repair `request Request request`. These rules are
/// checked like banned sequences: before a token is committed, against the tokens present on both
/// sides, so the sampler takes the next-best token instead. Built once per tokenizer (it classifies
/// every token of the vocabulary) and shared by reference between gaps.
public final class RepetitionGuard: Sendable, Hashable {
    /// What a token is made of.
    enum Kind: UInt8 {
        /// Holds at least one letter.
        case word
        /// Only digits (possibly with surrounding spaces).
        case digit
        /// Only whitespace.
        case space
        /// Anything else: punctuation and symbols.
        case punctuation
    }

    /// Per token id: its kind.
    let kinds: [Kind]
    /// Per token id: an id of its lower-cased letters and digits (equal for `Request`/` request`).
    let keys: [Int32]
    /// Per token id: whether it begins with whitespace (starts a new word).
    let leadingSpace: [Bool]
    /// Keys of the coordinating words a word may not stand on both sides of ("and", "or", "nor").
    let conjunctions: Set<Int32>
    /// Token n-grams longer than this are never repeated inside a gap.
    public let ngram: Int
    /// The longest run of digit tokens (one digit per token in most BPE vocabularies).
    public let maxDigitRun: Int
    /// The most punctuation tokens one word without letters may hold: `2023-10-22`, `$1,250.00`
    /// and `192.168.1.1` stay within three; `1.11.2.10.20`, the numbered-sense filler of small
    /// models (a heading field opening `## 2023- room.1.11.2.10.20.15`), does not.
    public let maxSeparators: Int

    /// Classifies every token of a vocabulary.
    ///
    /// - Parameters:
    ///   - vocabularySize: ids `0..<vocabularySize` are classified; others are treated as words.
    ///   - bytes: the UTF-8 bytes a token stands for.
    ///   - ngram: the n of the repeated-n-gram rule (3: no token trigram twice in a gap).
    ///   - maxDigitRun: digit tokens allowed in a row (4 allows years and prices).
    ///   - maxSeparators: punctuation tokens allowed in one word without letters.
    public init(vocabularySize: Int, bytes: (TokenID) -> [UInt8], ngram: Int = 3, maxDigitRun: Int = 4, maxSeparators: Int = 3) {
        var kinds = [Kind](repeating: .word, count: vocabularySize)
        var keys = [Int32](repeating: -1, count: vocabularySize)
        var leading = [Bool](repeating: false, count: vocabularySize)
        var table: [String: Int32] = [:]
        for raw in 0..<vocabularySize {
            let b = bytes(TokenID(raw))
            leading[raw] = b.first.map { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D } ?? false
            var letters = false, digits = false, other = false
            var folded: [UInt8] = []
            for c in b {
                switch c {
                case 0x41...0x5A: letters = true; folded.append(c + 0x20)
                case 0x61...0x7A: letters = true; folded.append(c)
                case 0x30...0x39: digits = true; folded.append(c)
                case 0x20, 0x0A, 0x09, 0x0D: break
                case 0x80...: letters = true; folded.append(c)  // non-ASCII: treat as letters
                default: other = true
                }
            }
            kinds[raw] = letters ? .word : digits && !other ? .digit : !digits && !other ? .space : .punctuation
            let key = folded.isEmpty ? String(decoding: b, as: UTF8.self) : String(decoding: folded, as: UTF8.self)
            if let k = table[key] {
                keys[raw] = k
            } else {
                let k = Int32(table.count)
                table[key] = k
                keys[raw] = k
            }
        }
        self.kinds = kinds
        self.keys = keys
        self.leadingSpace = leading
        conjunctions = Set(["and", "or", "nor"].compactMap { table[$0] })
        self.ngram = max(2, ngram)
        self.maxDigitRun = max(1, maxDigitRun)
        self.maxSeparators = max(1, maxSeparators)
    }

    func kind(_ t: TokenID) -> Kind { Int(t) < kinds.count && t >= 0 ? kinds[Int(t)] : .word }
    func key(_ t: TokenID) -> Int32 { Int(t) < keys.count && t >= 0 ? keys[Int(t)] : -2 - t }
    func startsWithSpace(_ t: TokenID) -> Bool { Int(t) < leadingSpace.count && t >= 0 ? leadingSpace[Int(t)] : false }

    /// Whether `token` placed between `left` (nearest first) and `right` (nearest first) breaks a
    /// rule. `left`/`right` hold the present tokens next to the position, up to a mask or a gap edge
    /// for the n-gram rule; `gapTokens` are the gap's tokens as they stand (nil = still masked) with
    /// `offset` the position's index in it, for the n-gram rule.
    func rejects(_ token: TokenID, left: [TokenID], right: [TokenID], gapTokens: [TokenID?], offset: Int) -> Bool {
        let kind = kind(token)
        // A word that starts right after the same word (either side): "the the", "request Request".
        if kind == .word || kind == .digit {
            if let l = left.first, sameWord(l, before: token, leftOfLeft: left.dropFirst().first) { return true }
            if let r = right.first, sameWord(token, before: r, leftOfLeft: left.first) { return true }
            // Digits are single tokens after a separate space token: "1 1".
            if kind == .digit, left.count >= 2, self.kind(left[0]) == .space, self.kind(left[1]) == .digit,
               key(left[1]) == key(token) {
                return true
            }
            if kind == .digit, right.count >= 2, self.kind(right[0]) == .space, self.kind(right[1]) == .digit,
               key(right[1]) == key(token) {
                return true
            }
            if kind == .word, !startsWithSpace(token), completesRepeatedWord(token, left: left) { return true }
            if kind == .word, repeatsAcrossConjunction(token, left: left, right: right) { return true }
        }
        if kind == .punctuation || kind == .digit, separators(with: token, left: left, right: right) > maxSeparators {
            return true
        }
        switch kind {
        case .punctuation:
            // ". ." / ",," or three punctuation tokens in a row.
            if let l = left.first, self.kind(l) == .punctuation, key(l) == key(token) { return true }
            if let r = right.first, self.kind(r) == .punctuation, key(r) == key(token) { return true }
            if run(of: .punctuation, left: left, right: right) >= 3 { return true }
        case .digit:
            if run(of: .digit, left: left, right: right) > maxDigitRun { return true }
        case .space:
            if let l = left.first, self.kind(l) == .space { return true }
            if let r = right.first, self.kind(r) == .space { return true }
        case .word:
            break
        }
        return repeatsNgram(token, gapTokens: gapTokens, offset: offset)
    }

    /// Whether `b` (starting a word) repeats the whole word `a` just before it.
    private func sameWord(_ a: TokenID, before b: TokenID, leftOfLeft: TokenID?) -> Bool {
        guard kind(a) == kind(b), kind(a) == .word || kind(a) == .digit, key(a) == key(b) else { return false }
        // `a` is a whole word when it starts with a space or nothing word-like precedes it.
        let aStarts = startsWithSpace(a) || leftOfLeft.map { self.kind($0) != .word && self.kind($0) != .digit } ?? true
        let bStarts = startsWithSpace(b)
        return aStarts && bStarts
    }

    /// Whether `token`, continuing the word on its left, makes that word a copy of the word
    /// before it, spelled in two or more tokens ("Northwind Northwind" is ` North` `wind` twice,
    /// which the one-token rule cannot see).
    private func completesRepeatedWord(_ token: TokenID, left: [TokenID]) -> Bool {
        func isWordPiece(_ t: TokenID) -> Bool { kind(t) == .word }
        // The current word: `token` and the pieces on its left back to one starting with a space.
        var current = [key(token)]
        var i = 0
        while i < left.count, isWordPiece(left[i]) {
            current.append(key(left[i]))
            i += 1
            if startsWithSpace(left[i - 1]) { break }
        }
        guard i > 0, startsWithSpace(left[i - 1]) else { return false }
        var previous: [Int32] = []
        while i < left.count, isWordPiece(left[i]) {
            previous.append(key(left[i]))
            i += 1
            if startsWithSpace(left[i - 1]) { break }
        }
        guard i > 0, i <= left.count, startsWithSpace(left[i - 1]) || i == left.count || !isWordPiece(left[i]) else { return false }
        return previous.count >= 2 && previous == current
    }

    /// Whether `token` makes a one-token word stand on both sides of a conjunction: "flexibility
    /// and flexibility" with `token` either word or the conjunction between them. Only whole
    /// words count: a word continued by a piece without a space ("black and blackberries") is a
    /// different word.
    private func repeatsAcrossConjunction(_ token: TokenID, left: [TokenID], right: [TokenID]) -> Bool {
        func isConjunction(_ t: TokenID) -> Bool { startsWithSpace(t) && conjunctions.contains(key(t)) }
        func wholeWord(_ t: TokenID, next: TokenID?) -> Bool {
            kind(t) == .word && startsWithSpace(t) && !(next.map { kind($0) == .word && !startsWithSpace($0) } ?? false)
        }
        let tokenIsWhole = wholeWord(token, next: right.first)
        if tokenIsWhole, !isConjunction(token), left.count >= 2, isConjunction(left[0]), wholeWord(left[1], next: left[0]),
           key(left[1]) == key(token) {
            return true
        }
        if tokenIsWhole, !isConjunction(token), right.count >= 2, isConjunction(right[0]),
           wholeWord(right[1], next: right.count > 2 ? right[2] : nil), key(right[1]) == key(token) {
            return true
        }
        if isConjunction(token), let l = left.first, let r = right.first, wholeWord(l, next: token),
           wholeWord(r, next: right.count > 1 ? right[1] : nil), key(l) == key(r) {
            return true
        }
        return false
    }

    /// The punctuation tokens in the word without letters that `token` (a digit or punctuation
    /// token) would sit in: the digit and punctuation tokens joined to it on both sides, up to a
    /// letter, a space or a token that starts with one.
    private func separators(with token: TokenID, left: [TokenID], right: [TokenID]) -> Int {
        func letterless(_ t: TokenID) -> Bool { kind(t) == .digit || kind(t) == .punctuation }
        var n = kind(token) == .punctuation ? 1 : 0
        if !startsWithSpace(token) {
            for t in left {
                guard letterless(t) else { break }
                if kind(t) == .punctuation { n += 1 }
                if startsWithSpace(t) { break }
            }
        }
        for t in right {
            guard letterless(t), !startsWithSpace(t) else { break }
            if kind(t) == .punctuation { n += 1 }
        }
        return n
    }

    /// Length of the run of `kind` tokens the new token would sit in.
    private func run(of kind: Kind, left: [TokenID], right: [TokenID]) -> Int {
        var n = 1
        for t in left { if self.kind(t) == kind { n += 1 } else { break } }
        for t in right { if self.kind(t) == kind { n += 1 } else { break } }
        return n
    }

    /// Whether an n-gram through `offset` (with `token` there) already occurs elsewhere in the gap.
    private func repeatsNgram(_ token: TokenID, gapTokens: [TokenID?], offset: Int) -> Bool {
        let n = ngram
        guard gapTokens.count >= 2 * n - 1 || gapTokens.count > n else { return false }
        var keys = [Int32?](repeating: nil, count: gapTokens.count)
        for (i, t) in gapTokens.enumerated() { keys[i] = t.map(key) }
        keys[offset] = key(token)
        var seen: Set<[Int32]> = []
        var mine: [[Int32]] = []
        var window: [Int32] = []
        window.reserveCapacity(n)
        for start in 0...(keys.count - n) {
            window.removeAll(keepingCapacity: true)
            for j in start..<(start + n) {
                guard let k = keys[j] else { break }
                window.append(k)
            }
            guard window.count == n else { continue }
            if (start..<(start + n)).contains(offset) { mine.append(window) } else { seen.insert(window) }
        }
        return mine.contains { seen.contains($0) }
    }

    public static func == (a: RepetitionGuard, b: RepetitionGuard) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
