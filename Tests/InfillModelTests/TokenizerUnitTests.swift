import Foundation
import Testing

@testable import InfillModel

/// The pre-tokenizer's pieces of `text`, as strings.
private func pieces(_ kind: PreTokenizerKind, _ text: String) -> [String] {
    let scalars = Array(text.unicodeScalars)
    let classes = scalars.map(ScalarClass.of)
    var result: [String] = []
    scalars.withUnsafeBufferPointer { s in
        classes.withUnsafeBufferPointer { c in
            PreTokenizer(kind: kind).split(s, classes: c) { range in
                result.append(String(String.UnicodeScalarView(scalars[range])))
            }
        }
    }
    return result
}

@Suite struct TokenizerPreTokenizerTests {
    // Expected pieces are HF `tokenizers`' own (`pre_tokenizer.pre_tokenize_str`).
    @Test func smolLM2SplitsDigitsAndWords() {
        #expect(pieces(.smollm, "Hello  world\t\n 123 it's DON'T")
            == ["Hello", " ", " world", "\t\n ", "1", "2", "3", " it", "'s", " DON", "'", "T"])
        #expect(pieces(.smollm, "a   b\r\n\r\n  c1234!!\n\n")
            == ["a", "  ", " b", "\r\n\r\n ", " c", "1", "2", "3", "4", "!!", "\n\n"])
        #expect(pieces(.smollm, "(hello) ?? 'Ll x ;\n") == ["(", "hello", ")", " ??", " '", "Ll", " x", " ;", "\n"])
    }

    @Test func qwen2KeepsNewlinesApartAndPrefixesWords() {
        #expect(pieces(.qwen2, "Hello  world\t\n 123 it's DON'T")
            == ["Hello", " ", " world", "\t\n", " ", "1", "2", "3", " it", "'s", " DON", "'T"])
        #expect(pieces(.qwen2, "a   b\r\n\r\n  c1234!!\n\n")
            == ["a", "  ", " b", "\r\n\r\n", " ", " c", "1", "2", "3", "4", "!!\n\n"])
        #expect(pieces(.qwen2, "(hello) ?? 'Ll x ;\n") == ["(hello", ")", " ??", " '", "Ll", " x", " ;\n"])
    }

    @Test func llama3GroupsDigitsByThree() {
        #expect(pieces(.llama3, "a   b\r\n\r\n  c1234!!\n\n")
            == ["a", "  ", " b", "\r\n\r\n", " ", " c", "123", "4", "!!\n\n"])
    }

    @Test func gpt2KeepsNumbersTogether() {
        #expect(pieces(.gpt2, "Hello  world\t\n 123 it's DON'T")
            == ["Hello", " ", " world", "\t\n", " 123", " it", "'s", " DON", "'", "T"])
        #expect(pieces(.gpt2, "a   b\r\n\r\n  c1234!!\n\n") == ["a", "  ", " b", "\r\n\r\n ", " c", "1234", "!!", "\n\n"])
    }

    @Test(arguments: PreTokenizerKind.allCases)
    func piecesCoverTheText(kind: PreTokenizerKind) {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            let text = randomText(&rng)
            let found = pieces(kind, text)
            #expect(found.joined() == text)
            #expect(!found.contains(""))
        }
    }

    @Test func ggufNamesMapToKinds() {
        #expect(PreTokenizerKind(ggufName: "smollm") == .smollm)
        #expect(PreTokenizerKind(ggufName: "qwen2") == .qwen2)
        #expect(PreTokenizerKind(ggufName: "llama-bpe") == .llama3)
        #expect(PreTokenizerKind(ggufName: "gpt-2") == .gpt2)
        #expect(PreTokenizerKind(ggufName: "deepseek-coder") == nil)
    }

    @Test func scalarClassesFollowUnicode() {
        #expect(ScalarClass.of("é") == .letter)
        #expect(ScalarClass.of("中") == .letter)
        #expect(ScalarClass.of("٣") == .number)
        #expect(ScalarClass.of("Ⅻ") == .number)
        #expect(ScalarClass.of("\u{3000}") == .whitespace)
        #expect(ScalarClass.of("\u{85}") == .whitespace)
        #expect(ScalarClass.of("\u{200B}") == .other)  // zero-width space is not White_Space
        #expect(ScalarClass.of("\u{301}") == .other)  // combining marks are neither L nor N
        #expect(ScalarClass.of("😀") == .other)
    }
}

@Suite struct TokenizerAlphabetTests {
    @Test func everyByteHasItsOwnScalar() {
        let scalars = ByteLevelAlphabet.scalarForByte
        #expect(Set(scalars).count == 256)
        #expect(scalars[0x20] == "Ġ")
        #expect(scalars[0x0A] == "Ċ")
        #expect(scalars[0x41] == "A")
        for byte in 0...255 {
            #expect(ByteLevelAlphabet.byte(for: scalars[byte]) == UInt8(byte))
        }
        #expect(ByteLevelAlphabet.byte(for: " ") == nil)
        #expect(ByteLevelAlphabet.bytes(of: "ĠhelloĊ") == Array(" hello\n".utf8))
        #expect(ByteLevelAlphabet.bytes(of: "<|im_end|>") == Array("<|im_end|>".utf8))
        #expect(ByteLevelAlphabet.string(for: Array("é ".utf8)) == "Ã©Ġ")
    }
}

@Suite struct TokenizerBehaviourTests {
    /// A toy vocabulary: bytes of "abc ", merges "a b" → "ab", "ab c" → "abc", "Ġ a" → "Ġa".
    private func toy(kind: PreTokenizerKind = .gpt2) throws -> BPETokenizer {
        let bytes = (0...255).map { ByteLevelAlphabet.string(for: [UInt8($0)]) }
        let tokens = ["<|endoftext|>", "<tool>"] + bytes + ["ab", "abc", "Ġa"]
        var types = [Int32](repeating: 1, count: tokens.count)
        types[0] = 3
        types[1] = 4
        return try BPETokenizer(tokens: tokens, merges: ["a b", "ab c", "Ġ a"], tokenTypes: types, preTokenizer: kind)
    }

    @Test func mergesApplyByRank() throws {
        // Ids: 0 and 1 added, 2 + byte for each byte, 258 "ab", 259 "abc", 260 "Ġa".
        let tokenizer = try toy()
        #expect(tokenizer.vocabularySize == 261)
        #expect(tokenizer.mergeCount == 3)
        #expect(tokenizer.encode("abc") == [259])
        #expect(tokenizer.encode(" abc") == [2 + 0x20, 259])  // "a b" outranks "Ġ a"
        #expect(tokenizer.encode(" ac") == [260, 2 + 0x63])
        #expect(tokenizer.encode("abcab abc") == [259, 258, 2 + 0x20, 259])
        #expect(tokenizer.decode(tokenizer.encode("abcab abc")) == "abcab abc")
    }

    @Test func specialTokensNeedParseSpecial() throws {
        let tokenizer = try toy()
        let end = try #require(tokenizer.specialTokenID("<|endoftext|>"))
        #expect(end == 0)
        #expect(tokenizer.isSpecial(end))
        #expect(!tokenizer.isSpecial(1))  // user-defined, not special
        #expect(tokenizer.specialTokenID("<tool>") == nil)
        #expect(tokenizer.encode("x<|endoftext|>y", parseSpecial: true) == [2 + 0x78, 0, 2 + 0x79])
        #expect(tokenizer.encode("x<|endoftext|>y", parseSpecial: false).count == 15)
        // Added (user-defined) tokens are matched either way.
        #expect(tokenizer.encode("<tool>", parseSpecial: false) == [1])
        #expect(tokenizer.decode([0, 2 + 0x78], skipSpecial: true) == "x")
        #expect(tokenizer.decode([0, 2 + 0x78], skipSpecial: false) == "<|endoftext|>x")
        #expect(tokenizer.bytes(of: 0) == Array("<|endoftext|>".utf8))
        #expect(tokenizer.bytes(of: -1) == [])
        #expect(tokenizer.bytes(of: 999) == [])
        #expect(tokenizer.decode([-5, 999, 2 + 0x61]) == "a")
    }

    @Test func invalidUTF8AtTheEdgesIsReplaced() throws {
        let tokenizer = try toy()
        let ids = tokenizer.encode("é")  // two byte tokens
        #expect(ids.count == 2)
        #expect(tokenizer.decode([ids[0]]) == "\u{FFFD}")
        #expect(tokenizer.decode(ids) == "é")
    }

    /// The heap-based merge loop (long words) and the scanning one (short words) agree.
    @Test func heapAndScanningMergesAgree() throws {
        let tokenizer = try #require(TokenizerFixtures.smolLM2)
        var rng = SeededGenerator(seed: 11)
        let alphabet = Array("aaabbbeeeinnorsstt    --==\n".utf8)
        for _ in 0..<200 {
            let word = (0..<Int.random(in: 2...160, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let symbols = word.map { tokenizer.byteTokenID($0) }
            var scanned = symbols, heaped = symbols
            tokenizer.mergeTable.applyByScanning(&scanned)
            tokenizer.mergeTable.applyWithHeap(&heaped)
            #expect(scanned == heaped)
        }
    }

    @Test func largeTextEncodesQuickly() throws {
        let tokenizer = try #require(TokenizerFixtures.smolLM2)
        let text = String(repeating: TokenizerFixtures.reference.cases.prefix(10).joined(separator: "\n"), count: 3)
        let clock = ContinuousClock()
        var ids: [TokenID] = []
        let elapsed = clock.measure { ids = tokenizer.encode(text, parseSpecial: true) }
        #expect(tokenizer.decode(ids, skipSpecial: false) == text)
        // Generous for debug builds on a busy machine; release is far faster (see the report).
        #expect(elapsed < .seconds(5))
    }
}

@Suite struct TokenizerErrorTests {
    private func write(_ json: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-\(UUID().uuidString).json")
        try json.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func message(_ json: String) throws -> String {
        let url = try write(json)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try BPETokenizer(tokenizerJSON: url)
            return "no error"
        } catch let error as TokenizerError {
            #expect(error.description.hasPrefix(url.path + ": "))
            return error.message
        }
    }

    private let byteLevel = #"{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}"#

    @Test func malformedFilesNameTheProblem() throws {
        #expect(try message("{not json").contains("not valid JSON"))
        #expect(try message("{\"model\": [1,\n 2,, 3]}").contains("around character"))
        #expect(try message("[1, 2]").contains("top level is not a JSON object"))
        #expect(try message("{}").contains(#"no "model" object"#))
        #expect(try message(#"{"model": {"type": "WordPiece"}}"#).contains("only byte-level"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": "x"}}}"#).contains(#"model.vocab["a"] is not a valid id"#))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#).contains("model.merges[0]"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b"]]}, "pre_tokenizer": \#(byteLevel)}"#)
            .contains(#"merge 0 (a b): "b" is not in the vocabulary"#))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}, "pre_tokenizer": \#(byteLevel)}"#)
            .contains(#"the merged token "ab" is not in the vocabulary"#))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "Whitespace"}}"#)
            .contains("unsupported pre_tokenizer"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "added_tokens": [{"content": "x"}]}"#)
            .contains("added_tokens[0]"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": \#(byteLevel), "normalizer": {"type": "Lowercase"}}"#)
            .contains("unsupported normalizer"))
        #expect(try message(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a"]}, "pre_tokenizer": \#(byteLevel)}"#)
            .contains("\"aa\" is not in the vocabulary"))
    }

    @Test func missingFileIsNamed() {
        let url = URL(fileURLWithPath: "/nonexistent/tokenizer.json")
        #expect(throws: TokenizerError.self) { try BPETokenizer(tokenizerJSON: url) }
    }

    @Test func ggufStyleInputIsChecked() {
        #expect(throws: TokenizerError.self) {
            try BPETokenizer(tokens: ["a"], merges: [], tokenTypes: [1, 1], preTokenizer: .gpt2, source: "m.gguf")
        }
        do {
            _ = try BPETokenizer(tokens: ["a", "b"], merges: ["a  b"], tokenTypes: nil, preTokenizer: .gpt2, source: "m.gguf")
            Issue.record("expected an error")
        } catch let error as TokenizerError {
            #expect(error.description == #"m.gguf: merge 0 is not two tokens separated by one space: "a  b""#)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func pairAndStringMergesAreEquivalent() throws {
        func tokenizer(_ merges: String) throws -> BPETokenizer {
            try BPETokenizer(tokenizerJSONData: Data(#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": \#(merges)}, "pre_tokenizer": {"type": "ByteLevel"}}"#.utf8), source: "inline")
        }
        #expect(try tokenizer(#"["a b"]"#).encode("ab") == [2])
        #expect(try tokenizer(#"[["a", "b"]]"#).encode("ab") == [2])
        #expect(try tokenizer(#"[]"#).encode("ab") == [0, 1])
    }
}
