import Foundation
import InfillModel

/// Fluency as the autoregressive parent judges it: the mean negative log-likelihood (nats per
/// token) of a field's text following the document before it, under the base model with causal
/// attention. Lower is more fluent; it is the same yardstick for diffusion and AR fills.
package struct FluencyJudge: Sendable {
    package let transformer: Transformer
    package let tokenizer: any Tokenizer
    /// Context tokens kept before the text (the most recent ones).
    package var contextLimit = 384

    package init(transformer: Transformer, tokenizer: any Tokenizer) {
        self.transformer = transformer
        self.tokenizer = tokenizer
    }

    /// Mean NLL of `text` after `context`, or nil for an empty text.
    package func nll(of text: String, after context: String) throws -> Double? {
        let target = tokenizer.encode(text)
        guard !target.isEmpty else { return nil }
        var prefix = Array(tokenizer.encode(context).suffix(contextLimit))
        if prefix.isEmpty { prefix = tokenizer.encode("\n") }
        let room = transformer.config.contextLength - prefix.count
        let scored = Array(target.prefix(max(1, room)))
        // The parent's own scoring: one causal pass, a log-softmax per scored row.
        let nlls = try CausalParent(transformer: transformer).tokenNLLs(of: prefix + scored, from: prefix.count)
        return nlls.isEmpty ? nil : nlls.reduce(0, +) / Double(nlls.count)
    }
}
