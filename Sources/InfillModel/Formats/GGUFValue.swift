/// One metadata value of a GGUF file (all thirteen GGUF value types).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    indirect case array([GGUFValue])

    /// The value as an integer, for any integer type (nil for other types or out of range).
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(exactly: v)
        default: nil
        }
    }

    /// The value as a floating-point number, for float and integer types.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: intValue.map(Double.init)
        }
    }

    /// The value if it is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value if it is a bool.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements if the value is an array.
    public var arrayValue: [GGUFValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// A short rendering for `infill model info` (arrays are summarised by length).
    public var summary: String {
        switch self {
        case .string(let s): s.count > 60 ? String(s.prefix(57)) + "..." : s
        case .array(let a): "[\(a.count) items]"
        case .bool(let b): String(b)
        case .float32(let v): String(v)
        case .float64(let v): String(v)
        default: intValue.map(String.init) ?? "?"
        }
    }
}
