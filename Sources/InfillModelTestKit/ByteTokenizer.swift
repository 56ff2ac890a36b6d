import InfillModel

/// A tokenizer with one token per byte plus a few special tokens, for tests.
///
/// Ids 0–255 are the bytes; then ``endOfText`` (the null token), ``mask`` and ``imEnd``.
public struct ByteTokenizer: Tokenizer {
    public static let endOfText: TokenID = 256
    public static let mask: TokenID = 257
    public static let imEnd: TokenID = 258
    static let specials: [(String, TokenID)] = [
        ("<|endoftext|>", endOfText), ("<mask>", mask), ("<|im_end|>", imEnd),
    ]

    public init() {}

    public var vocabularySize: Int { 259 }

    public func encode(_ text: String, parseSpecial: Bool) -> [TokenID] {
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

    public func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if isSpecial(id) && skipSpecial { continue }
            bytes.append(contentsOf: self.bytes(of: id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func bytes(of id: TokenID) -> [UInt8] {
        if id >= 0 && id < 256 { return [UInt8(id)] }
        return Array((Self.specials.first { $0.1 == id }?.0 ?? "").utf8)
    }

    public func specialTokenID(_ text: String) -> TokenID? {
        Self.specials.first { $0.0 == text }?.1
    }

    public func isSpecial(_ id: TokenID) -> Bool { id >= 256 }
}
