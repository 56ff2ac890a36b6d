import InfillModel

/// A tokenizer with one token per byte plus a few special tokens, for tests.
///
/// Ids 0–255 are the bytes; then ``endOfText`` (the null token), ``mask`` and ``imEnd``.
package struct ByteTokenizer: Tokenizer {
    package static let endOfText: TokenID = 256
    package static let mask: TokenID = 257
    package static let imEnd: TokenID = 258
    static let specials: [(String, TokenID)] = [
        ("<|endoftext|>", endOfText), ("<mask>", mask), ("<|im_end|>", imEnd),
    ]

    package init() {}

    package var vocabularySize: Int { 259 }

    package func encode(_ text: String, parseSpecial: Bool) -> [TokenID] {
        guard parseSpecial else { return text.utf8.map { TokenID($0) } }
        var out: [TokenID] = []
        var rest = Substring(text)
        outer: while !rest.isEmpty {
            for (name, id) in Self.specials where rest.hasPrefix(name) {
                out.append(id)
                rest = rest.dropFirst(name.count)
                continue outer
            }
            out.append(contentsOf: String(rest.prefix(1)).utf8.map { TokenID($0) })
            rest = rest.dropFirst()
        }
        return out
    }

    package func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if isSpecial(id) && skipSpecial { continue }
            bytes.append(contentsOf: self.bytes(of: id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    package func bytes(of id: TokenID) -> [UInt8] {
        if id >= 0 && id < 256 { return [UInt8(id)] }
        return Array((Self.specials.first { $0.1 == id }?.0 ?? "").utf8)
    }

    package func specialTokenID(_ text: String) -> TokenID? {
        Self.specials.first { $0.0 == text }?.1
    }

    package func isSpecial(_ id: TokenID) -> Bool { id >= 256 }
}
