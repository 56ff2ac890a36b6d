/// The shape of a Llama/Qwen2-family decoder: sizes, head layout, RoPE and normalisation settings.
public struct TransformerConfig: Sendable, Equatable {
    /// `llama` or `qwen2`.
    public var architecture: String
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// Key/value heads (grouped-query attention when fewer than ``headCount``).
    public var kvHeadCount: Int
    public var headDimension: Int
    public var ropeTheta: Float
    public var rmsEpsilon: Float
    /// Longest sequence the model was trained for.
    public var contextLength: Int
    /// Whether the output head reuses the token embedding.
    public var tiedEmbeddings: Bool
    /// Whether q/k/v projections carry biases (Qwen2).
    public var attentionBias: Bool

    public init(
        architecture: String, vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
        headCount: Int, kvHeadCount: Int, headDimension: Int? = nil, ropeTheta: Float, rmsEpsilon: Float,
        contextLength: Int, tiedEmbeddings: Bool, attentionBias: Bool
    ) {
        self.architecture = architecture
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.kvHeadCount = kvHeadCount
        self.headDimension = headDimension ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.ropeTheta = ropeTheta
        self.rmsEpsilon = rmsEpsilon
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.attentionBias = attentionBias
    }

    /// Width of the query projection.
    public var queryWidth: Int { headCount * headDimension }
    /// Width of the key (and value) projection.
    public var keyValueWidth: Int { kvHeadCount * headDimension }

    /// Checks the sizes are positive and consistent; `source` names the file for the error.
    public func validate(source: String) throws {
        let sizes = [vocabularySize, hiddenSize, intermediateSize, layerCount, headCount, kvHeadCount, headDimension]
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw ModelFileError(source, "invalid model sizes \(sizes) (all must be positive)")
        }
        guard headCount % kvHeadCount == 0 else {
            throw ModelFileError(source, "\(headCount) attention heads are not a multiple of \(kvHeadCount) key/value heads")
        }
        guard headDimension % 2 == 0 else {
            throw ModelFileError(source, "head dimension \(headDimension) must be even for RoPE")
        }
        guard rmsEpsilon > 0, ropeTheta > 0 else {
            throw ModelFileError(source, "invalid rms epsilon \(rmsEpsilon) or rope theta \(ropeTheta)")
        }
    }

    /// Parameters in the weights (embedding and head counted once when tied).
    public var parameterCount: Int {
        let attention = hiddenSize * (queryWidth + 2 * keyValueWidth) + queryWidth * hiddenSize
            + (attentionBias ? queryWidth + 2 * keyValueWidth : 0)
        let mlp = 3 * hiddenSize * intermediateSize
        let perLayer = attention + mlp + 2 * hiddenSize
        return vocabularySize * hiddenSize * (tiedEmbeddings ? 1 : 2) + layerCount * perLayer + hiddenSize
    }
}
