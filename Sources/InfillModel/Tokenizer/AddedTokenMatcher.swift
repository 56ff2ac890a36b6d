/// Finds added and special tokens (such as `<|im_end|>`) in text, leftmost-longest, before the
/// rest of the text is pre-tokenized.
struct AddedTokenMatcher: Sendable {
    /// One token to look for.
    struct Entry: Sendable {
        var bytes: [UInt8]
        var id: TokenID
        /// Special tokens are matched only when the caller asks to parse special tokens;
        /// other added tokens always.
        var isSpecial: Bool
    }

    /// A piece of the text: a matched token or a byte range to encode as plain text.
    enum Segment: Equatable {
        case token(TokenID)
        case text(Range<Int>)
    }

    /// Entries by first byte, longest first.
    private let byFirstByte: [[Entry]]
    let isEmpty: Bool

    init(_ entries: [Entry]) {
        var table = [[Entry]](repeating: [], count: 256)
        for entry in entries {
            guard let first = entry.bytes.first else { continue }
            table[Int(first)].append(entry)
        }
        for index in table.indices {
            table[index].sort { $0.bytes.count > $1.bytes.count }
        }
        byFirstByte = table
        isEmpty = entries.allSatisfy(\.bytes.isEmpty)
    }

    /// Splits `bytes` into tokens found in it and the plain text between them.
    func split(_ bytes: UnsafeBufferPointer<UInt8>, includeSpecial: Bool) -> [Segment] {
        if isEmpty { return bytes.isEmpty ? [] : [.text(0..<bytes.count)] }
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        scan: while index < bytes.count {
            for entry in byFirstByte[Int(bytes[index])] where includeSpecial || !entry.isSpecial {
                let length = entry.bytes.count
                guard index + length <= bytes.count else { continue }
                var equal = true
                for offset in 1..<max(length, 1) where bytes[index + offset] != entry.bytes[offset] {
                    equal = false
                    break
                }
                guard equal else { continue }
                if textStart < index { segments.append(.text(textStart..<index)) }
                segments.append(.token(entry.id))
                index += length
                textStart = index
                continue scan
            }
            index += 1
        }
        if textStart < bytes.count { segments.append(.text(textStart..<bytes.count)) }
        return segments
    }
}
