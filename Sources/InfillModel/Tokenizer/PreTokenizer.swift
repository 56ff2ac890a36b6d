/// How text is cut into words before BPE merges run inside each word.
///
/// Each kind is a hand-written scanner equivalent to the regex HF `tokenizers` uses for it.
public enum PreTokenizerKind: String, Sendable, CaseIterable {
    /// GPT-2's byte-level split:
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM2 (StarCoder-style): every digit is its own piece, then ``gpt2`` on the rest.
    case smollm
    /// Qwen2: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case qwen2
    /// Llama 3: as ``qwen2`` but numbers in groups of up to three digits (`\p{N}{1,3}`).
    case llama3

    /// The kind named by GGUF's `tokenizer.ggml.pre`, or nil when it is not supported.
    ///
    /// `default` and `gpt-2` are GPT-2's split; `llama-bpe` is llama.cpp's name for Llama 3.
    public init?(ggufName: String) {
        switch ggufName {
        case "gpt2", "gpt-2", "default": self = .gpt2
        case "smollm", "starcoder": self = .smollm
        case "qwen2": self = .qwen2
        case "llama3", "llama-bpe", "llama-v3": self = .llama3
        default: return nil
        }
    }
}

/// Cuts a run of scalars into pre-tokenizer pieces.
///
/// Works on the scalars and their ``ScalarClass`` side by side so that no regex engine and no
/// per-piece allocation is needed.
struct PreTokenizer {
    let kind: PreTokenizerKind

    /// Calls `body` with the scalar range of every piece of `scalars`, in order; the pieces cover
    /// the input exactly.
    func split(
        _ scalars: UnsafeBufferPointer<Unicode.Scalar>,
        classes: UnsafeBufferPointer<ScalarClass>,
        _ body: (Range<Int>) -> Void
    ) {
        let end = scalars.count
        switch kind {
        case .gpt2:
            var i = 0
            while i < end {
                let j = Self.gpt2Match(scalars, classes, at: i, end: end)
                body(i..<j)
                i = j
            }
        case .smollm:
            // Digits(individual_digits): each number scalar alone; the text between is split
            // separately, so its end acts as the end of the text for `\s+(?!\S)`.
            var i = 0
            while i < end {
                if classes[i] == .number {
                    body(i..<(i + 1))
                    i += 1
                    continue
                }
                var segmentEnd = i
                while segmentEnd < end && classes[segmentEnd] != .number { segmentEnd += 1 }
                while i < segmentEnd {
                    let j = Self.gpt2Match(scalars, classes, at: i, end: segmentEnd)
                    body(i..<j)
                    i = j
                }
            }
        case .qwen2, .llama3:
            let maxDigits = kind == .qwen2 ? 1 : 3
            var i = 0
            while i < end {
                let j = Self.qwen2Match(scalars, classes, at: i, end: end, maxDigits: maxDigits)
                body(i..<j)
                i = j
            }
        }
    }

    /// The end of the GPT-2 regex match that starts at `i`.
    static func gpt2Match(
        _ s: UnsafeBufferPointer<Unicode.Scalar>, _ c: UnsafeBufferPointer<ScalarClass>, at i: Int, end: Int
    ) -> Int {
        let first = s[i]
        if first == "'", i + 1 < end {
            let second = s[i + 1]
            if second == "s" || second == "t" || second == "m" || second == "d" { return i + 2 }
            if i + 2 < end {
                let third = s[i + 2]
                if (second == "r" && third == "e") || (second == "v" && third == "e") || (second == "l" && third == "l") {
                    return i + 3
                }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional leading space then a run.
        var k = i
        if first == " ", i + 1 < end, c[i + 1] != .whitespace { k = i + 1 }
        let runClass = c[k]
        if runClass != .whitespace {
            var j = k + 1
            while j < end && c[j] == runClass { j += 1 }
            return j
        }
        return whitespaceMatch(c, at: i, end: end)
    }

    /// The end of the Qwen2 (or Llama 3) regex match that starts at `i`.
    static func qwen2Match(
        _ s: UnsafeBufferPointer<Unicode.Scalar>, _ c: UnsafeBufferPointer<ScalarClass>, at i: Int, end: Int,
        maxDigits: Int
    ) -> Int {
        let first = s[i]
        if first == "'", i + 1 < end {
            // (?i:…): Oniguruma's case folding also maps U+017F (long s) to "s".
            let second = s[i + 1]
            if "sStTmMdD\u{17F}".unicodeScalars.contains(second) { return i + 2 }
            if i + 2 < end {
                let pair = (lowerASCII(second), lowerASCII(s[i + 2]))
                if pair == ("r", "e") || pair == ("v", "e") || pair == ("l", "l") { return i + 3 }
            }
        }
        let firstClass = c[i]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if firstClass == .letter {
            return run(of: .letter, c, from: i + 1, end: end)
        }
        if firstClass != .number, !isNewline(first), i + 1 < end, c[i + 1] == .letter {
            return run(of: .letter, c, from: i + 2, end: end)
        }
        // `\p{N}` or `\p{N}{1,3}`
        if firstClass == .number {
            var j = i + 1
            while j < end && j - i < maxDigits && c[j] == .number { j += 1 }
            return j
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var k = i
        if first == " ", i + 1 < end, c[i + 1] == .other { k = i + 1 }
        if c[k] == .other {
            var j = run(of: .other, c, from: k + 1, end: end)
            while j < end && isNewline(s[j]) { j += 1 }
            return j
        }
        // `\s*[\r\n]+`: the longest whitespace prefix that ends in a newline.
        let runEnd = run(of: .whitespace, c, from: i + 1, end: end)
        var lastNewline = -1
        for j in stride(from: runEnd - 1, through: i, by: -1) where isNewline(s[j]) {
            lastNewline = j
            break
        }
        if lastNewline >= 0 { return lastNewline + 1 }
        return whitespaceMatch(c, at: i, end: end)
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar: the whole run at the end of the text, else the run
    /// but its last scalar (which then leads the next piece), else the single scalar.
    private static func whitespaceMatch(_ c: UnsafeBufferPointer<ScalarClass>, at i: Int, end: Int) -> Int {
        let runEnd = run(of: .whitespace, c, from: i + 1, end: end)
        if runEnd == end { return runEnd }
        return runEnd - i >= 2 ? runEnd - 1 : runEnd
    }

    private static func run(of cls: ScalarClass, _ c: UnsafeBufferPointer<ScalarClass>, from start: Int, end: Int) -> Int {
        var j = start
        while j < end && c[j] == cls { j += 1 }
        return j
    }

    private static func isNewline(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\n" || scalar == "\r"
    }

    private static func lowerASCII(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar
    }
}
