import Foundation
import Testing

@testable import InfillModel

/// A small seeded generator (SplitMix64) so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random text mixing the hard cases: emoji (ZWJ, modifiers, flags), combining marks, CJK,
/// control characters, whitespace runs, contractions, digits, special-token text, any scalar.
func randomText(_ rng: inout SeededGenerator, maxPieces: Int = 40) -> String {
    let pools: [[Unicode.Scalar]] = [
        Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars),
        Array("0123456789٣४½²Ⅻ①".unicodeScalars),
        Array("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars),
        Array(" \t\n\r\u{0B}\u{0C}\u{85}\u{A0}\u{2003}\u{2028}\u{3000}".unicodeScalars),
        Array("éèßøÅÆŒıİ\u{300}\u{301}\u{308}\u{327}\u{20DD}".unicodeScalars),
        Array("中文日本語한국어ひらがなカタカナ".unicodeScalars),
        Array("😀👍🏽\u{200D}❤\u{FE0F}🇩🇪🦀👨‍👩‍👧".unicodeScalars),
    ]
    let words = ["'s", "'T", "'re", "'LL", "<|im_end|>", "<|endoftext|>", "<|im_start", "<tool_call>", "    ", "\r\n"]
    var scalars = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 1...maxPieces, using: &rng) {
        switch Int.random(in: 0..<20, using: &rng) {
        case 0:
            scalars.append(contentsOf: words.randomElement(using: &rng)!.unicodeScalars)
        case 1:
            // Any scalar: surrogate code points are not scalars, so the initializer skips them.
            if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &rng)) { scalars.append(scalar) }
        case 2:
            if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x1F, using: &rng)) { scalars.append(scalar) }
        default:
            let pool = pools.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...6, using: &rng) { scalars.append(pool.randomElement(using: &rng)!) }
        }
    }
    return String(scalars)
}

@Suite struct TokenizerRoundTripTests {
    /// The tiny Qwen2 vocabulary (all 256 bytes) without its NFC normalizer, under every
    /// pre-tokenizer: decoding must give back any UTF-8 text exactly.
    @Test(arguments: PreTokenizerKind.allCases)
    func anyTextRoundTripsExactly(kind: PreTokenizerKind) throws {
        let tokenizer = try qwen2TinyVocabulary(kind: kind)
        #expect(tokenizer.unrepresentableBytes.isEmpty)
        var rng = SeededGenerator(seed: 0x1F4A9 &+ UInt64(kind.rawValue.utf8.count))
        for _ in 0..<150 {
            let text = randomText(&rng)
            for parseSpecial in [false, true] {
                let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
                #expect(tokenizer.decode(ids, skipSpecial: false) == text)
                #expect(ids.flatMap { tokenizer.bytes(of: $0) } == Array(text.utf8))
            }
        }
    }

    /// SmolLM2 round-trips any text made of the bytes it has tokens for.
    @Test func smolLM2RoundTripsRepresentableText() throws {
        let tokenizer = try #require(TokenizerFixtures.smolLM2)
        #expect(tokenizer.unrepresentableBytes == [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1] + Array(0xF1...0xF2) + Array(0xF5...0xFF))
        var rng = SeededGenerator(seed: 7)
        var checked = 0
        for _ in 0..<300 {
            let text = randomText(&rng)
            guard tokenizer.representsExactly(text) else { continue }
            checked += 1
            #expect(tokenizer.decode(tokenizer.encode(text, parseSpecial: true), skipSpecial: false) == text)
            #expect(tokenizer.decode(tokenizer.encode(text, parseSpecial: false), skipSpecial: false) == text)
        }
        #expect(checked > 100)
    }

    /// Encoding from many tasks at once (sharing the word cache) gives the same ids as alone.
    @Test func concurrentEncodingAgrees() async throws {
        let tokenizer = try #require(TokenizerFixtures.smolLM2)
        var rng = SeededGenerator(seed: 99)
        let texts = (0..<64).map { _ in randomText(&rng) }
        let alone = texts.map { tokenizer.encode($0, parseSpecial: true) }
        let together = await withTaskGroup(of: (Int, [TokenID]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, tokenizer.encode(text, parseSpecial: true)) }
            }
            var results = [[TokenID]](repeating: [], count: texts.count)
            for await (index, ids) in group { results[index] = ids }
            return results
        }
        #expect(together == alone)
    }
}

/// The tiny Qwen2 fixture's vocabulary and merges, loaded through the GGUF-style initializer with
/// the given pre-tokenizer and no normalizer.
func qwen2TinyVocabulary(kind: PreTokenizerKind) throws -> BPETokenizer {
    let data = try Data(contentsOf: TokenizerFixtures.qwen2TinyURL)
    let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let model = try #require(root["model"] as? [String: Any])
    let vocab = try #require(model["vocab"] as? [String: Int])
    let added = try #require(root["added_tokens"] as? [[String: Any]])
    var tokens = [String](repeating: "", count: vocab.count + added.count)
    var types = [Int32](repeating: 1, count: tokens.count)
    for (text, id) in vocab { tokens[id] = text }
    for entry in added {
        let id = try #require(entry["id"] as? Int)
        tokens[id] = try #require(entry["content"] as? String)
        types[id] = (entry["special"] as? Bool ?? false) ? 3 : 4
    }
    let merges = try #require(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
    return try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: kind)
}
