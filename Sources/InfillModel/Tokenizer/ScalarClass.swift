/// The character classes the pre-tokenizer regexes are written in: `\p{L}`, `\p{N}`, `\s` and the
/// rest.
///
/// `\s` is Unicode's White_Space property (as in Oniguruma, which HF `tokenizers` uses); letters
/// are general categories L*, numbers N* (Nd, Nl, No).
enum ScalarClass: UInt8 {
    case letter
    case number
    case whitespace
    case other

    /// The class of one scalar (ASCII through a table, the rest through Unicode properties).
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 128 { return asciiTable[Int(value)] }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { value -> ScalarClass in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }
}
