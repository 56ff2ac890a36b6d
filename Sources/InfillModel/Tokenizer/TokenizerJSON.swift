import Foundation

extension BPETokenizer {
    /// The Qwen2 split regex as `tokenizer.json` stores it.
    static let qwen2Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// The Llama 3 split regex as `tokenizer.json` stores it.
    static let llama3Regex =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// A tokenizer from an HF `tokenizer.json` with a byte-level BPE model.
    ///
    /// Reads `model.vocab`, `model.merges` (`"a b"` strings or `["a", "b"]` pairs),
    /// `model.ignore_merges`, `added_tokens` (`special: true` ones are special tokens),
    /// `normalizer` (none or NFC) and `pre_tokenizer`, which must be one of the
    /// ``PreTokenizerKind`` splits.
    ///
    /// - Throws: ``TokenizerError`` naming the file and what is wrong or unsupported.
    public init(tokenizerJSON url: URL) throws {
        let source = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw TokenizerError(source: source, message: "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(tokenizerJSONData: data, source: source)
    }

    /// A tokenizer from the contents of a `tokenizer.json` (see ``init(tokenizerJSON:)``);
    /// `source` names the file in errors.
    public init(tokenizerJSONData data: Data, source: String) throws {
        func fail(_ message: String) -> TokenizerError { TokenizerError(source: source, message: message) }
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw fail("the top level is not a JSON object")
            }
            root = object
        } catch let error as TokenizerError {
            throw error
        } catch {
            // Foundation puts the position ("around line 3, column 7") in the debug description.
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? error.localizedDescription
            throw fail("not valid JSON (\(detail))")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("no \"model\" object") }
        if let type = model["type"] as? String, type != "BPE" {
            throw fail("model.type is \(type.debugDescription); only byte-level \"BPE\" is supported")
        }
        if model["byte_fallback"] as? Bool == true {
            throw fail("model.byte_fallback is true; only byte-level BPE (GPT-2 alphabet) is supported")
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw fail("no model.vocab object") }

        // Ids from the vocabulary and the added tokens; gaps stay empty tokens.
        var textForID: [Int: String] = [:]
        textForID.reserveCapacity(vocab.count)
        for (text, value) in vocab {
            guard let id = Self.integer(value), id >= 0, id < Int(Int32.max) else {
                throw fail("model.vocab[\(text.debugDescription)] is not a valid id")
            }
            textForID[id] = text
        }
        var kindForID: [Int: AddedKind] = [:]
        for (index, item) in ((root["added_tokens"] as? [Any]) ?? []).enumerated() {
            guard let entry = item as? [String: Any], let id = entry["id"].flatMap(Self.integer), id >= 0,
                  id < Int(Int32.max), let content = entry["content"] as? String
            else {
                throw fail("added_tokens[\(index)] lacks an integer \"id\" or a string \"content\"")
            }
            textForID[id] = content
            kindForID[id] = (entry["special"] as? Bool ?? false) ? .special : .added
        }
        let count = (textForID.keys.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: count)
        var kinds = [AddedKind](repeating: .ordinary, count: count)
        for (id, text) in textForID { tokens[id] = text }
        for (id, kind) in kindForID { kinds[id] = kind }

        var pairs: [(String, String)] = []
        let mergeItems = (model["merges"] as? [Any]) ?? []
        pairs.reserveCapacity(mergeItems.count)
        for (index, item) in mergeItems.enumerated() {
            if let line = item as? String {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw fail("model.merges[\(index)] is not two tokens separated by one space: \(line.debugDescription)")
                }
                pairs.append((String(parts[0]), String(parts[1])))
            } else if let pair = item as? [Any], pair.count == 2, let left = pair[0] as? String, let right = pair[1] as? String {
                pairs.append((left, right))
            } else {
                throw fail("model.merges[\(index)] is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        let kind = try Self.preTokenizerKind(root["pre_tokenizer"], fail: fail)
        let normalization = try Self.normalization(root["normalizer"], fail: fail)
        try self.init(tokens: tokens, kinds: kinds, mergePairs: pairs, preTokenizer: kind,
                      ignoreMerges: model["ignore_merges"] as? Bool ?? false,
                      normalization: normalization, source: source)
    }

    private static func integer(_ value: Any) -> Int? {
        if let number = value as? NSNumber, !(value is Bool) {
            let double = number.doubleValue
            return double == double.rounded() ? number.intValue : nil
        }
        return value as? Int
    }

    /// Recognises the pre-tokenizer configurations of GPT-2, SmolLM2, Qwen2 and Llama 3.
    private static func preTokenizerKind(_ value: Any?, fail: (String) -> TokenizerError) throws -> PreTokenizerKind {
        func describe(_ value: Any?) -> String {
            guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) else {
                return "null"
            }
            return String(decoding: data.prefix(300), as: UTF8.self)
        }
        func isByteLevel(_ item: Any?, useRegex: Bool) -> Bool {
            guard let object = item as? [String: Any], object["type"] as? String == "ByteLevel" else { return false }
            if object["add_prefix_space"] as? Bool == true { return false }
            return (object["use_regex"] as? Bool ?? true) == useRegex
        }
        if isByteLevel(value, useRegex: true) { return .gpt2 }
        if let object = value as? [String: Any], object["type"] as? String == "Sequence",
           let steps = object["pretokenizers"] as? [Any], steps.count == 2 {
            if let digits = steps[0] as? [String: Any], digits["type"] as? String == "Digits",
               digits["individual_digits"] as? Bool == true, isByteLevel(steps[1], useRegex: true) {
                return .smollm
            }
            if let split = steps[0] as? [String: Any], split["type"] as? String == "Split",
               split["behavior"] as? String == "Isolated", split["invert"] as? Bool != true,
               let pattern = (split["pattern"] as? [String: Any])?["Regex"] as? String,
               isByteLevel(steps[1], useRegex: false) {
                if pattern == qwen2Regex { return .qwen2 }
                if pattern == llama3Regex { return .llama3 }
            }
        }
        throw fail("unsupported pre_tokenizer \(describe(value)); supported: GPT-2 ByteLevel, SmolLM2 Digits+ByteLevel, Qwen2 and Llama 3 Split+ByteLevel")
    }

    private static func normalization(_ value: Any?, fail: (String) -> TokenizerError) throws -> TextNormalization {
        guard let value, !(value is NSNull) else { return .none }
        if let object = value as? [String: Any] {
            switch object["type"] as? String {
            case "NFC": return .nfc
            case "Sequence" where (object["normalizers"] as? [Any])?.isEmpty == true: return .none
            default: break
            }
        }
        throw fail("unsupported normalizer (only none or NFC)")
    }
}
