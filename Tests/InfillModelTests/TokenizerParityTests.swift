import Foundation
import Testing

@testable import InfillModel

/// The tokenizer fixtures in `Tests/Fixtures/tokenizer` (made by `tools/tokenizer/make_fixtures.py`).
enum TokenizerFixtures {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer", isDirectory: true)

    static var smolLM2URL: URL { folder.appendingPathComponent("smollm2/tokenizer.json") }
    static var qwen2TinyURL: URL { folder.appendingPathComponent("qwen2-tiny/tokenizer.json") }

    /// HF `tokenizers`' ids for one case: special tokens parsed, and special tokens as text.
    struct Expected: Decodable {
        var special: [TokenID]
        var plain: [TokenID]
    }

    struct Reference: Decodable {
        var cases: [String]
        var tokenizers: [String: [Expected]]
    }

    static let reference: Reference = {
        do {
            let data = try Data(contentsOf: folder.appendingPathComponent("reference.json"))
            return try JSONDecoder().decode(Reference.self, from: data)
        } catch {
            Issue.record("cannot read reference.json: \(error)")
            return Reference(cases: [], tokenizers: [:])
        }
    }()

    // Loaded once: the SmolLM2 vocabulary takes a moment to parse in debug builds.
    static let smolLM2: BPETokenizer? = load(smolLM2URL)
    static let qwen2Tiny: BPETokenizer? = load(qwen2TinyURL)

    private static func load(_ url: URL) -> BPETokenizer? {
        do {
            return try BPETokenizer(tokenizerJSON: url)
        } catch {
            Issue.record("cannot load \(url.path): \(error)")
            return nil
        }
    }
}

@Suite struct TokenizerParityTests {
    @Test func referenceCorpusIsLarge() {
        let characters = TokenizerFixtures.reference.cases.reduce(0) { $0 + $1.count }
        #expect(TokenizerFixtures.reference.cases.count >= 40)
        #expect(characters >= 5000)
    }

    @Test func smolLM2MatchesHFTokenizers() throws {
        let tokenizer = try #require(TokenizerFixtures.smolLM2)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.preTokenizerKind == .smollm)
        try expectParity(tokenizer, name: "smollm2")
    }

    /// Tokenizers trained for the test with each pre-tokenizer (Qwen2's also with NFC, Llama 3's
    /// with `ignore_merges`).
    @Test(arguments: [("qwen2-tiny", PreTokenizerKind.qwen2), ("llama3-tiny", .llama3), ("gpt2-tiny", .gpt2)])
    func tinyTokenizerMatchesHFTokenizers(name: String, kind: PreTokenizerKind) throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: TokenizerFixtures.folder.appendingPathComponent("\(name)/tokenizer.json"))
        #expect(tokenizer.preTokenizerKind == kind)
        #expect(tokenizer.vocabularySize == 1001)
        try expectParity(tokenizer, name: name)
    }

    /// The GGUF-style initializer (token strings, `"a b"` merges, token types) gives the same ids.
    @Test func ggufMetadataInitMatchesHFTokenizers() throws {
        let data = try Data(contentsOf: TokenizerFixtures.smolLM2URL)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let model = try #require(root["model"] as? [String: Any])
        let vocab = try #require(model["vocab"] as? [String: Int])
        var tokens = [String](repeating: "", count: vocab.count)
        for (text, id) in vocab { tokens[id] = text }
        let merges = try #require(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
        var types = [Int32](repeating: 1, count: tokens.count)
        for entry in try #require(root["added_tokens"] as? [[String: Any]]) {
            types[try #require(entry["id"] as? Int)] = 3
        }
        let tokenizer = try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: .smollm)
        try expectParity(tokenizer, name: "smollm2")
    }

    @Test func decodingTheCorpusGivesItBack() throws {
        let smol = try #require(TokenizerFixtures.smolLM2)
        let qwen = try #require(TokenizerFixtures.qwen2Tiny)
        for text in TokenizerFixtures.reference.cases {
            // SmolLM2 has no token for a few bytes; like HF, encoding drops them.
            let missing = Set(smol.unrepresentableBytes)
            let representable = String(decoding: text.utf8.filter { !missing.contains($0) }, as: UTF8.self)
            #expect(smol.representsExactly(text) == (representable == text))
            for parseSpecial in [false, true] {
                #expect(smol.decode(smol.encode(text, parseSpecial: parseSpecial), skipSpecial: false) == representable)
                // Qwen2's normalizer is NFC, so its round trip gives the NFC form (as HF's does).
                let nfc = text.precomposedStringWithCanonicalMapping
                #expect(qwen.decode(qwen.encode(text, parseSpecial: parseSpecial), skipSpecial: false) == nfc)
            }
        }
    }

    private func expectParity(_ tokenizer: BPETokenizer, name: String) throws {
        let reference = TokenizerFixtures.reference
        let expected = try #require(reference.tokenizers[name])
        try #require(expected.count == reference.cases.count)
        var mismatches = 0
        for (index, text) in reference.cases.enumerated() {
            for (parseSpecial, ids) in [(true, expected[index].special), (false, expected[index].plain)] {
                let got = tokenizer.encode(text, parseSpecial: parseSpecial)
                if got != ids {
                    mismatches += 1
                    let first = zip(got, ids).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, ids.count)
                    Issue.record("""
                        \(name) case \(index) parseSpecial=\(parseSpecial): first difference at token \(first): \
                        got \(Array(got[first..<min(got.count, first + 6)])), \
                        expected \(Array(ids[first..<min(ids.count, first + 6)])) \
                        near \(tokenizer.decode(Array(ids[max(0, first - 3)..<min(ids.count, first + 3)]), skipSpecial: false).debugDescription)
                        """)
                }
            }
        }
        #expect(mismatches == 0)
    }
}
