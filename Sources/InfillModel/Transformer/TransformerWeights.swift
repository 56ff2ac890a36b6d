/// The weights of one decoder layer, fused for the forward pass.
public struct LayerWeights: Sendable {
    /// RMSNorm weight before attention.
    public let attentionNorm: [Float]
    /// Fused q/k/v projection, `[queryWidth + 2·keyValueWidth, hidden]` row-major (HF row order).
    public let qkv: [Float]
    /// Fused q/k/v bias, if the model has one.
    public let qkvBias: [Float]?
    /// Output projection `[hidden, queryWidth]`.
    public let output: [Float]
    /// RMSNorm weight before the MLP.
    public let mlpNorm: [Float]
    /// Fused gate and up projections, `[2·intermediate, hidden]`: gate rows first.
    public let gateUp: [Float]
    /// Down projection `[hidden, intermediate]`.
    public let down: [Float]
    /// The same matrices packed for few-row products (nil for models too large to hold both).
    public var packed: PackedLayer?
}

/// All weights of a decoder, dequantised to fp32 once and shared read-only.
public struct TransformerWeights: Sendable {
    /// Token embedding `[vocabulary, hidden]`.
    public let embedding: [Float]
    public let layers: [LayerWeights]
    public let finalNorm: [Float]
    /// Output head `[vocabulary, hidden]`; nil when tied to ``embedding``.
    public let head: [Float]?
    /// The head (or the tied embedding) packed for few-row products.
    public private(set) var packedHead: PackedMatrix?

    /// Largest model (fp32 bytes of its matrices) that also keeps packed copies: they double the
    /// memory the weights take.
    public static let packingLimitBytes = 4 << 30

    /// Fuses a complete HF-named ``WeightSet`` for `config`, consuming it.
    /// - Throws: ``ModelFileError`` for a missing tensor or a wrong shape.
    public init(fusing set: consuming WeightSet, config c: TransformerConfig) throws {
        // Taking matrices out of the consumed set frees each dequantised matrix once it is fused.
        var set = consume set
        let h = c.hiddenSize, q = c.queryWidth, kv = c.keyValueWidth, ff = c.intermediateSize
        embedding = try set.take("model.embed_tokens.weight", rows: c.vocabularySize, columns: h)
        var layers: [LayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for i in 0..<c.layerCount {
            let name = { (suffix: String) in WeightSet.layer(i, suffix) }
            var qkv = try set.take(name("self_attn.q_proj.weight"), rows: q, columns: h)
            qkv += try set.take(name("self_attn.k_proj.weight"), rows: kv, columns: h)
            qkv += try set.take(name("self_attn.v_proj.weight"), rows: kv, columns: h)
            var bias: [Float]? = nil
            if c.attentionBias {
                var b = try set.takeVector(name("self_attn.q_proj.bias"), count: q)
                b += try set.takeVector(name("self_attn.k_proj.bias"), count: kv)
                b += try set.takeVector(name("self_attn.v_proj.bias"), count: kv)
                bias = b
            }
            var gateUp = try set.take(name("mlp.gate_proj.weight"), rows: ff, columns: h)
            gateUp += try set.take(name("mlp.up_proj.weight"), rows: ff, columns: h)
            layers.append(LayerWeights(
                attentionNorm: try set.takeVector(name("input_layernorm.weight"), count: h),
                qkv: qkv, qkvBias: bias,
                output: try set.take(name("self_attn.o_proj.weight"), rows: h, columns: q),
                mlpNorm: try set.takeVector(name("post_attention_layernorm.weight"), count: h),
                gateUp: gateUp,
                down: try set.take(name("mlp.down_proj.weight"), rows: h, columns: ff)))
        }
        finalNorm = try set.takeVector("model.norm.weight", count: h)
        head = c.tiedEmbeddings ? nil : try set.take("lm_head.weight", rows: c.vocabularySize, columns: h)
        let bytes = layers.reduce(embedding.count + (head?.count ?? 0)) {
            $0 + $1.qkv.count + $1.output.count + $1.gateUp.count + $1.down.count
        } * MemoryLayout<Float>.stride
        if bytes <= Self.packingLimitBytes {
            for i in layers.indices {
                let l = layers[i]
                layers[i].packed = PackedLayer(
                    qkv: PackedMatrix(l.qkv, outputs: q + 2 * kv, inputs: h), output: PackedMatrix(l.output, outputs: h, inputs: q),
                    gateUp: PackedMatrix(l.gateUp, outputs: 2 * ff, inputs: h), down: PackedMatrix(l.down, outputs: h, inputs: ff))
            }
            packedHead = PackedMatrix(head ?? embedding, outputs: c.vocabularySize, inputs: h)
        }
        self.layers = layers
    }
}
