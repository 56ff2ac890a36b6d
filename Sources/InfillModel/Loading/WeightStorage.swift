/// How a model's weight matrices are held for the forward pass.
public enum WeightStorage: String, Sendable, CaseIterable {
    /// Dequantised once to fp32: the fastest per token, 4 bytes per parameter.
    case fp32
    /// Left in the file's encoding (BF16, F16, Q8_0, k-quants, …), memory-mapped, dequantised
    /// tile by tile during each projection; norms and biases in fp32.
    case stored

    /// Models whose fp32 weights exceed this are kept stored by default (about 1 B parameters).
    public static let fp32Limit = 4 << 30

    /// The storage for `config`: `INFILL_WEIGHTS` (`fp32`, `stored`) when set, else fp32 up to
    /// ``fp32Limit`` bytes of fp32 weights and stored beyond, so small models keep their speed.
    /// - Throws: ``ModelFileError`` for an unknown `INFILL_WEIGHTS` value.
    public static func choose(for config: TransformerConfig, environment: [String: String]) throws -> WeightStorage {
        if let value = environment["INFILL_WEIGHTS"], !value.isEmpty, value != "auto" {
            guard let storage = WeightStorage(rawValue: value) else {
                throw ModelFileError("INFILL_WEIGHTS", "'\(value)' is not a weight storage (auto, fp32 or stored)")
            }
            return storage
        }
        return config.parameterCount * 4 > fp32Limit ? .stored : .fp32
    }
}
