/// GPT-2's byte-level alphabet: every byte is shown as one printable Unicode scalar, so that
/// byte-level BPE vocabularies can be stored as text.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the other 68 bytes
/// map, in byte order, to U+0100 and up (so the space 0x20 is `Ġ`, the newline 0x0A is `Ċ`).
enum ByteLevelAlphabet {
    /// The scalar that stands for each byte, indexed by byte.
    static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                // Scalars 256…323 are all valid, so the initializer cannot fail here.
                table[byte] = Unicode.Scalar(next) ?? "\0"
                next += 1
            }
        }
        return table
    }()

    /// The byte a scalar of the alphabet stands for, or nil for scalars outside the alphabet.
    static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        if value < 256 {
            return isPrintable(UInt8(value)) ? UInt8(value) : nil
        }
        return value < 324 ? byteForExtraScalar[Int(value - 256)] : nil
    }

    /// Decodes a vocabulary string to the bytes it stands for, or nil when some scalar is not
    /// in the alphabet (such strings are literal text, like special tokens).
    static func bytes(of token: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            out.append(byte)
        }
        return out
    }

    /// Encodes bytes as an alphabet string (the inverse of ``bytes(of:)``).
    static func string(for bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    private static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// Bytes of U+0100…U+0143, in order.
    private static let byteForExtraScalar: [UInt8] = (0..<256).compactMap { byte in
        isPrintable(UInt8(byte)) ? nil : UInt8(byte)
    }
}
