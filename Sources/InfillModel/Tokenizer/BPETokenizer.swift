import Foundation

/// Unicode normalization a tokenizer applies to text before pre-tokenizing it.
public enum TextNormalization: String, Sendable {
    /// Text is used as it is (exact round trip for any input).
    case none
    /// Canonical composition (NFC), as Qwen2's `tokenizer.json` asks; text that is not already NFC
    /// decodes to its NFC form.
    case nfc
}

/// A byte-level BPE tokenizer (GPT-2 family: SmolLM2, Qwen2, Llama 3), built from GGUF metadata
/// or from an HF `tokenizer.json`.
///
/// Encoding: special and added tokens are found first (special ones only when `parseSpecial` is
/// true), the text between them is cut into words by the ``PreTokenizerKind`` and each word's
/// bytes are merged by rank. Ids equal HF `tokenizers`' output, and decoding an
/// encoding gives the text back byte for byte, for any UTF-8 text whose bytes the vocabulary has
/// tokens for (see ``unrepresentableBytes``) and with ``TextNormalization/none``.
public struct BPETokenizer: Tokenizer {
    /// The token each byte starts as (-1 when the vocabulary lacks it; such bytes are dropped, as
    /// HF does without an unknown token).
    private let byteTokens: [TokenID]
    /// The bytes each id stands for (special and added tokens: their text).
    private let tokenBytes: [[UInt8]]
    private let special: [Bool]
    private let specialIDs: [String: TokenID]
    private let merges: BPEMerges
    private let added: AddedTokenMatcher
    private let preTokenizer: PreTokenizer
    /// Llama 3's `ignore_merges`: a word that is itself a token is not merged piecewise.
    private let wholeWordIDs: [[UInt8]: TokenID]?
    private let normalization: TextNormalization
    private let cache = WordCache()

    /// The pre-tokenizer this tokenizer uses.
    public var preTokenizerKind: PreTokenizerKind { preTokenizer.kind }
    /// Number of merge rules.
    public var mergeCount: Int { merges.count }

    /// Bytes the vocabulary has no token for, in increasing order; encoding drops them, as HF
    /// `tokenizers` does. Empty for GPT-2, Qwen2 and Llama 3. Besides bytes that never occur in
    /// UTF-8 (0xC0, 0xC1, 0xF5…0xFF), SmolLM2 lacks eight that can: 0x04, 0x06, 0x13, 0x14, 0x16,
    /// 0x1D and 0xF1, 0xF2 (lead bytes of the unassigned planes 4–11).
    public var unrepresentableBytes: [UInt8] {
        (0...255).filter { byteTokens[$0] < 0 }.map { UInt8($0) }
    }

    /// Whether `text` encodes without loss: every byte has a token and no normalization changes it.
    public func representsExactly(_ text: String) -> Bool {
        if normalization == .nfc, text.precomposedStringWithCanonicalMapping.utf8.elementsEqual(text.utf8) == false {
            return false
        }
        return text.utf8.allSatisfy { byteTokens[Int($0)] >= 0 }
    }

    /// A tokenizer from GGUF-style metadata.
    ///
    /// - Parameters:
    ///   - tokens: every token's text, indexed by id (`tokenizer.ggml.tokens`); ordinary tokens
    ///     are written in GPT-2's byte alphabet (`Ġ` for space).
    ///   - merges: merge rules `"left right"`, highest priority first (`tokenizer.ggml.merges`).
    ///   - tokenTypes: `tokenizer.ggml.token_type`: 3 (control) marks special tokens, matched in
    ///     text only with `parseSpecial`; 4 (user-defined) marks added tokens, always matched.
    ///   - preTokenizer: the word split (`tokenizer.ggml.pre`, see ``PreTokenizerKind/init(ggufName:)``).
    ///   - ignoreMerges: take a word that is itself a token as that token (Llama 3).
    ///   - normalization: Unicode normalization applied before pre-tokenizing.
    ///   - source: the file named in errors.
    /// - Throws: ``TokenizerError`` when a merge names an unknown token or makes one.
    public init(
        tokens: [String], merges: [String], tokenTypes: [Int32]?, preTokenizer: PreTokenizerKind,
        ignoreMerges: Bool = false, normalization: TextNormalization = .none, source: String = "tokenizer"
    ) throws {
        if let tokenTypes, tokenTypes.count != tokens.count {
            throw TokenizerError(source: source, message: "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (index, line) in merges.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError(source: source, message: "merge \(index) is not two tokens separated by one space: \(line.debugDescription)")
            }
            pairs.append((String(parts[0]), String(parts[1])))
        }
        let kinds: [AddedKind] = (tokenTypes ?? []).map { type in
            switch type {
            case 3: .special
            case 4: .added
            default: .ordinary
            }
        }
        try self.init(tokens: tokens, kinds: kinds, mergePairs: pairs, preTokenizer: preTokenizer,
                      ignoreMerges: ignoreMerges, normalization: normalization, source: source)
    }

    /// Whether a token is ordinary vocabulary, a special token or another added token.
    enum AddedKind {
        case ordinary, special, added
    }

    /// The common initializer: `kinds` may be shorter than `tokens` (missing means ordinary).
    init(
        tokens: [String], kinds: [AddedKind], mergePairs: [(String, String)], preTokenizer: PreTokenizerKind,
        ignoreMerges: Bool, normalization: TextNormalization, source: String
    ) throws {
        guard tokens.count < Int(Int32.max) else {
            throw TokenizerError(source: source, message: "too many tokens (\(tokens.count))")
        }
        var byteTokens = [TokenID](repeating: -1, count: 256)
        var tokenBytes: [[UInt8]] = []
        tokenBytes.reserveCapacity(tokens.count)
        var special = [Bool](repeating: false, count: tokens.count)
        var specialIDs: [String: TokenID] = [:]
        var addedEntries: [AddedTokenMatcher.Entry] = []
        var idForToken: [String: TokenID] = [:]
        idForToken.reserveCapacity(tokens.count)
        var wholeWordIDs: [[UInt8]: TokenID] = [:]

        for (index, text) in tokens.enumerated() {
            let id = TokenID(index)
            let kind = index < kinds.count ? kinds[index] : .ordinary
            if kind == .ordinary {
                // First id wins for duplicated strings, as in a vocabulary dictionary.
                if idForToken[text] == nil { idForToken[text] = id }
                if let bytes = ByteLevelAlphabet.bytes(of: text) {
                    tokenBytes.append(bytes)
                    if bytes.count == 1, byteTokens[Int(bytes[0])] < 0 { byteTokens[Int(bytes[0])] = id }
                    if ignoreMerges, wholeWordIDs[bytes] == nil { wholeWordIDs[bytes] = id }
                } else {
                    // Not in the byte alphabet (an unused or malformed entry): keep its text.
                    tokenBytes.append(Array(text.utf8))
                }
            } else {
                let bytes = Array(text.utf8)
                tokenBytes.append(bytes)
                special[index] = kind == .special
                if kind == .special, specialIDs[text] == nil { specialIDs[text] = id }
                addedEntries.append(.init(bytes: bytes, id: id, isSpecial: kind == .special))
            }
        }

        var table: [UInt64: BPEMerges.Merge] = [:]
        table.reserveCapacity(mergePairs.count)
        for (rank, (left, right)) in mergePairs.enumerated() {
            guard let leftID = idForToken[left] else {
                throw TokenizerError(source: source, message: "merge \(rank) (\(left) \(right)): \(left.debugDescription) is not in the vocabulary")
            }
            guard let rightID = idForToken[right] else {
                throw TokenizerError(source: source, message: "merge \(rank) (\(left) \(right)): \(right.debugDescription) is not in the vocabulary")
            }
            guard let resultID = idForToken[left + right] else {
                throw TokenizerError(source: source, message: "merge \(rank) (\(left) \(right)): the merged token \((left + right).debugDescription) is not in the vocabulary")
            }
            let key = BPEMerges.key(leftID, rightID)
            // A repeated rule keeps its first (highest) priority.
            if table[key] == nil { table[key] = .init(rank: Int32(rank), result: resultID) }
        }

        self.byteTokens = byteTokens
        self.tokenBytes = tokenBytes
        self.special = special
        self.specialIDs = specialIDs
        self.merges = BPEMerges(table: table)
        self.added = AddedTokenMatcher(addedEntries)
        self.preTokenizer = PreTokenizer(kind: preTokenizer)
        self.wholeWordIDs = ignoreMerges ? wholeWordIDs : nil
        self.normalization = normalization
    }

    /// The token a single byte starts as, or -1 (for tests of the merge loop).
    func byteTokenID(_ byte: UInt8) -> TokenID { byteTokens[Int(byte)] }
    /// The merge table (for tests of the merge loop).
    var mergeTable: BPEMerges { merges }

    // MARK: Tokenizer

    public var vocabularySize: Int { tokenBytes.count }

    public func encode(_ text: String, parseSpecial: Bool) -> [TokenID] {
        let utf8 = Array(text.utf8)
        var output: [TokenID] = []
        output.reserveCapacity(utf8.count / 3 + 1)
        let segments = utf8.withUnsafeBufferPointer { added.split($0, includeSpecial: parseSpecial) }
        for segment in segments {
            switch segment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                var piece = String(decoding: utf8[range], as: UTF8.self)
                if normalization == .nfc { piece = piece.precomposedStringWithCanonicalMapping }
                encodePlain(piece, into: &output)
            }
        }
        return output
    }

    public func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < tokenBytes.count {
            if skipSpecial && special[Int(id)] { continue }
            bytes.append(contentsOf: tokenBytes[Int(id)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func bytes(of id: TokenID) -> [UInt8] {
        guard id >= 0, Int(id) < tokenBytes.count else { return [] }
        return tokenBytes[Int(id)]
    }

    public func specialTokenID(_ text: String) -> TokenID? {
        specialIDs[text]
    }

    public func isSpecial(_ id: TokenID) -> Bool {
        id >= 0 && Int(id) < special.count && special[Int(id)]
    }

    // MARK: Encoding plain text

    /// Pre-tokenizes `text` (no special tokens in it) and appends each word's ids.
    private func encodePlain(_ text: String, into output: inout [TokenID]) {
        var scalars: [Unicode.Scalar] = []
        var classes: [ScalarClass] = []
        var offsets: [Int] = []  // UTF-8 offset of each scalar, plus the end
        scalars.reserveCapacity(text.utf8.count)
        classes.reserveCapacity(text.utf8.count)
        offsets.reserveCapacity(text.utf8.count + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            classes.append(ScalarClass.of(scalar))
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)
        let utf8 = Array(text.utf8)
        var symbols: [TokenID] = []
        scalars.withUnsafeBufferPointer { scalarBuffer in
            classes.withUnsafeBufferPointer { classBuffer in
                preTokenizer.split(scalarBuffer, classes: classBuffer) { range in
                    let word = Array(utf8[offsets[range.lowerBound]..<offsets[range.upperBound]])
                    encodeWord(word, symbols: &symbols, into: &output)
                }
            }
        }
    }

    /// Appends the ids of one pre-tokenized word.
    private func encodeWord(_ word: [UInt8], symbols: inout [TokenID], into output: inout [TokenID]) {
        if let wholeWordIDs, let id = wholeWordIDs[word] {
            output.append(id)
            return
        }
        if word.count == 1 {
            let id = byteTokens[Int(word[0])]
            if id >= 0 { output.append(id) }
            return
        }
        let cacheable = word.count <= 128
        if cacheable, let ids = cache.lookup(word) {
            output.append(contentsOf: ids)
            return
        }
        symbols.removeAll(keepingCapacity: true)
        for byte in word {
            let id = byteTokens[Int(byte)]
            if id >= 0 { symbols.append(id) }
        }
        merges.apply(to: &symbols)
        output.append(contentsOf: symbols)
        if cacheable { cache.store(word, symbols) }
    }
}
