import Foundation

/// `manifest.json` of a diffusion adapter folder (docs/ADAPTER.md).
public struct AdapterManifest: Sendable, Codable, Equatable {
    /// The base model file the adapter was trained on.
    public struct Base: Sendable, Codable, Equatable {
        public var file: String
        public var sha256: String?
    }

    public var name: String
    public var base: Base?
    public var maskTokenID: Int
    public var nullTokenID: Int
    /// The token at position 0 of every training canvas (absent in adapters trained without one).
    public var startTokenID: Int?
    public var logitShift: Bool
    /// `bidirectional` or `causal`.
    public var attention: String
    public var rank: Int
    public var alpha: Double
    public var trainingTokens: Int?
    public var date: String?
    /// Where canvases put instructions for this adapter (``InstructionLayout``'s raw value), for
    /// an adapter measured to read better one way; absent: the model's chat template decides
    /// (``ModelLoader``).
    public var instructions: String?

    enum CodingKeys: String, CodingKey {
        case name, base, rank, alpha, date, attention, instructions
        case maskTokenID = "mask_token_id", nullTokenID = "null_token_id", logitShift = "logit_shift"
        case startTokenID = "start_token_id"
        case trainingTokens = "training_tokens"
    }

    /// Reads and validates `path`.
    public static func read(path: String) throws -> AdapterManifest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelFileError(path, "cannot read adapter manifest")
        }
        let manifest: AdapterManifest
        do {
            manifest = try JSONDecoder().decode(AdapterManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelFileError(path, "missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ModelFileError(path, "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw ModelFileError(path, "not a valid adapter manifest (\(error))")
        }
        guard manifest.rank > 0 else { throw ModelFileError(path, "rank must be positive") }
        guard AttentionMode(rawValue: manifest.attention) != nil else {
            throw ModelFileError(path, "attention must be 'bidirectional' or 'causal', not '\(manifest.attention)'")
        }
        if let instructions = manifest.instructions, InstructionLayout(rawValue: instructions) == nil {
            throw ModelFileError(path, "instructions must be 'inline' or 'chat', not '\(instructions)'")
        }
        return manifest
    }

    /// The instruction layout the manifest asks for, if any.
    public var instructionLayout: InstructionLayout? {
        instructions.flatMap(InstructionLayout.init(rawValue:))
    }
}
