import InfillDocuments
import InfillModel
import InfillModelTestKit

/// Test doubles for the document layer: a prose-like scripted model and a tiny word tokenizer.
enum TestModels {
    /// A model over ``ByteTokenizer`` that writes word-like lowercase text: letters, spaces and
    /// the occasional period, with pseudo-random preferences per position (so seeds matter at
    /// temperature > 0) and a moderate wish to end (the null token).
    static func prose(nullLogit: Float = 0.5, favouring word: String? = nil, maxSequenceLength: Int = 4096) -> ScriptedModel {
        let width = ByteTokenizer().vocabularySize
        let favoured = word.map { Array($0.utf8) }
        return ScriptedModel(
            logitWidth: width, maskTokenID: ByteTokenizer.mask, nullTokenID: ByteTokenizer.endOfText,
            maxSequenceLength: maxSequenceLength
        ) { tokens, position in
            var row = [Float](repeating: -20, count: width)
            var h = UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15
            for letter in UInt8(ascii: "a")...UInt8(ascii: "z") {
                h = (h ^ UInt64(letter)) &* 0xBF58_476D_1CE4_E5B9
                row[Int(letter)] = Float(h >> 61) * 0.5
            }
            row[Int(UInt8(ascii: " "))] = 2.5
            row[Int(UInt8(ascii: "."))] = 0.5
            row[Int(ByteTokenizer.endOfText)] = nullLogit
            if let favoured {
                // Strongly want to spell `word` out, cycling through it by position.
                row[Int(favoured[position % favoured.count])] = 12
            }
            _ = tokens
            return row
        }
    }

    static func loaded(_ model: ScriptedModel, tokenizer: any Tokenizer = ByteTokenizer()) -> LoadedModel {
        LoadedModel(model: model, tokenizer: tokenizer, name: "scripted", adapter: nil)
    }
}

/// ByteTokenizer plus whole-word tokens (with and without a leading space) for a few words,
/// matched longest first: enough to exercise the tone-bias compiler.
struct WordTokenizer: Tokenizer {
    let words: [String]
    private let byte = ByteTokenizer()

    init(words: [String]) {
        var all: [String] = []
        for w in words { all += [w, " " + w] }
        self.words = all
    }

    var vocabularySize: Int { 259 + words.count }

    func encode(_ text: String, parseSpecial: Bool) -> [TokenID] {
        let bytes = Array(text.utf8)
        var out: [TokenID] = []
        var i = 0
        outer: while i < bytes.count {
            var best: (id: Int, length: Int)?
            for (index, w) in words.enumerated() {
                let wb = Array(w.utf8)
                if wb.count > (best?.length ?? 0), i + wb.count <= bytes.count, Array(bytes[i..<(i + wb.count)]) == wb {
                    best = (index, wb.count)
                }
            }
            if let best {
                out.append(TokenID(259 + best.id))
                i += best.length
                continue outer
            }
            out.append(TokenID(bytes[i]))
            i += 1
        }
        return out
    }

    func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        String(decoding: ids.flatMap { isSpecial($0) && skipSpecial ? [] : bytes(of: $0) }, as: UTF8.self)
    }

    func bytes(of id: TokenID) -> [UInt8] {
        id >= 259 && Int(id) - 259 < words.count ? Array(words[Int(id) - 259].utf8) : byte.bytes(of: id)
    }

    func specialTokenID(_ text: String) -> TokenID? { byte.specialTokenID(text) }
    func isSpecial(_ id: TokenID) -> Bool { id >= 256 && id < 259 }
}
