/// The weights of one decoder layer, fused for the forward pass.
public struct LayerWeights: Sendable {
    /// RMSNorm weight before attention.
    public let attentionNorm: [Float]
    /// Fused q/k/v projection, `[queryWidth + 2·keyValueWidth, hidden]` (HF row order).
    public let qkv: WeightMatrix
    /// Fused q/k/v bias, if the model has one.
    public let qkvBias: [Float]?
    /// Output projection `[hidden, queryWidth]`.
    public let output: WeightMatrix
    /// RMSNorm weight before the MLP.
    public let mlpNorm: [Float]
    /// Fused gate and up projections, `[2·intermediate, hidden]`: gate rows first.
    public let gateUp: WeightMatrix
    /// Down projection `[hidden, intermediate]`.
    public let down: WeightMatrix
}

/// All weights of a decoder, shared read-only: fp32 (dequantised once), or matrices kept in
/// their stored encoding (``WeightMatrix``) with norms and biases in fp32.
public struct TransformerWeights: Sendable {
    /// Token embedding `[vocabulary, hidden]`.
    public let embedding: WeightMatrix
    public let layers: [LayerWeights]
    public let finalNorm: [Float]
    /// Output head `[vocabulary, hidden]`; nil when tied to ``embedding``.
    public let head: WeightMatrix?

    /// Largest model (fp32 bytes of its matrices) whose matrices are packed for the project's
    /// kernel. Packing happens matrix by matrix, so loading needs one matrix's copy on top.
    public static let packingLimitBytes = 4 << 30

    /// Fuses a complete HF-named ``WeightSet`` for `config`, consuming it.
    /// - Throws: ``ModelFileError`` for a missing tensor or a wrong shape.
    public init(fusing set: consuming WeightSet, config c: TransformerConfig) throws {
        // Taking matrices out of the consumed set frees each dequantised matrix once it is fused.
        var set = consume set
        let h = c.hiddenSize, q = c.queryWidth, kv = c.keyValueWidth, ff = c.intermediateSize
        var embeddingMatrix = try set.takeMatrix("model.embed_tokens.weight", rows: c.vocabularySize, columns: h)
        var layers: [LayerWeights] = []
        layers.reserveCapacity(c.layerCount)
        for i in 0..<c.layerCount {
            let name = { (suffix: String) in WeightSet.layer(i, suffix) }
            let qkv = try set.takeStacked(
                [(name("self_attn.q_proj.weight"), q), (name("self_attn.k_proj.weight"), kv), (name("self_attn.v_proj.weight"), kv)],
                columns: h)
            var bias: [Float]? = nil
            if c.attentionBias {
                var b = try set.takeVector(name("self_attn.q_proj.bias"), count: q)
                b += try set.takeVector(name("self_attn.k_proj.bias"), count: kv)
                b += try set.takeVector(name("self_attn.v_proj.bias"), count: kv)
                bias = b
            }
            let gateUp = try set.takeStacked([(name("mlp.gate_proj.weight"), ff), (name("mlp.up_proj.weight"), ff)], columns: h)
            layers.append(LayerWeights(
                attentionNorm: try set.takeVector(name("input_layernorm.weight"), count: h),
                qkv: qkv, qkvBias: bias,
                output: try set.takeMatrix(name("self_attn.o_proj.weight"), rows: h, columns: q),
                mlpNorm: try set.takeVector(name("post_attention_layernorm.weight"), count: h),
                gateUp: gateUp,
                down: try set.takeMatrix(name("mlp.down_proj.weight"), rows: h, columns: ff)))
        }
        finalNorm = try set.takeVector("model.norm.weight", count: h)
        var headMatrix = c.tiedEmbeddings ? nil : try set.takeMatrix("lm_head.weight", rows: c.vocabularySize, columns: h)
        // fp32 models small enough are packed for the project's few-row kernel; the packed form
        // replaces the row-major one (the embedding lookup reads it too).
        let bytes = layers.reduce(embeddingMatrix.byteCount + (headMatrix?.byteCount ?? 0)) {
            $0 + $1.qkv.byteCount + $1.output.byteCount + $1.gateUp.byteCount + $1.down.byteCount
        }
        if !embeddingMatrix.isStored && bytes <= Self.packingLimitBytes {
            for i in layers.indices {
                let l = layers[i]
                layers[i] = LayerWeights(
                    attentionNorm: l.attentionNorm, qkv: l.qkv.packing(), qkvBias: l.qkvBias, output: l.output.packing(),
                    mlpNorm: l.mlpNorm, gateUp: l.gateUp.packing(), down: l.down.packing())
            }
            embeddingMatrix = embeddingMatrix.packing()
            headMatrix = headMatrix?.packing()
        }
        embedding = embeddingMatrix
        head = headMatrix
        self.layers = layers
    }

    /// fp32 scratch floats one projection tile needs (0 when every matrix is fp32).
    public var tileCapacity: Int {
        var capacity = max(embedding.tileCapacity, head?.tileCapacity ?? 0)
        for layer in layers {
            capacity = max(capacity, layer.qkv.tileCapacity, layer.output.tileCapacity, layer.gateUp.tileCapacity, layer.down.tileCapacity)
        }
        return capacity
    }

    /// Bytes held by the matrices (mapped bytes for stored ones) and the fp32 vectors.
    public var byteCount: Int {
        var total = embedding.byteCount + (head?.byteCount ?? 0) + finalNorm.count * 4
        for layer in layers {
            total += layer.qkv.byteCount + layer.output.byteCount + layer.gateUp.byteCount + layer.down.byteCount
            total += (layer.attentionNorm.count + layer.mlpNorm.count + (layer.qkvBias?.count ?? 0)) * 4
        }
        return total
    }

    /// Whether the matrices are kept in their stored encoding.
    public var isStored: Bool { embedding.isStored }
}
