import Foundation
import InfillDocuments
import InfillModel
import InfillSampling

/// The baseline a diffusion fill has to beat: the autoregressive parent continuing the document
/// left to right at each field, seeing only the text before it.
///
/// Each field in document order continues the body so far (earlier fields as this baseline
/// filled them, the field's instruction in parentheses as the diffusion canvas has it), with
/// nucleus sampling and a KV cache, until the model ends its text, the field's paragraph (a block
/// field) or line (an in-line field) ends, or its word maximum is reached.
package struct AutoregressiveBaseline: Sendable {
    package let transformer: Transformer
    package let tokenizer: any Tokenizer
    package var temperature: Float = 0.7
    package var topP: Float = 0.9
    package var contextLimit = 384

    package init(transformer: Transformer, tokenizer: any Tokenizer) {
        self.transformer = transformer
        self.tokenizer = tokenizer
    }

    /// One text per field of `plan`, in field order.
    package func fill(_ plan: DocumentPlan, seed: UInt64) throws -> [String] {
        var fills: [Int: String] = [:]
        var rng = SeededGenerator(seed: seed)
        for index in plan.fields.indices {
            let field = plan.fields[index]
            var before = DocumentText.around(plan, field: index, fills: fills).before
            if field.isInline { while before.hasSuffix(" ") { before.removeLast() } }
            if let instruction = field.spec.instruction ?? field.tone?.instruction, !instruction.isEmpty {
                before += (before.hasSuffix("\n") || before.hasSuffix(" ") || before.isEmpty ? "" : " ")
                    + "(" + instruction + ")" + (field.isInline ? "" : "\n")
            }
            fills[index] = try continueText(before, field: field, rng: &rng)
        }
        return plan.fields.indices.map { fills[$0] ?? "" }
    }

    private func continueText(_ context: String, field: PlannedField, rng: inout SeededGenerator) throws -> String {
        var tokens = Array(tokenizer.encode(context).suffix(contextLimit))
        if tokens.isEmpty { tokens = tokenizer.encode("\n") }
        let maxWords = field.spec.words?.max ?? LengthBudget.defaultWords.max
        let maxTokens = min(transformer.config.contextLength - tokens.count - 1, Int(Double(maxWords) * 2.5) + 8)
        let cache = KVCache()
        var logits = try transformer.logits(sequences: [tokens], outputRows: [[tokens.count - 1]], attention: .causal,
                                            recordingInto: [cache])[0]
        var generated: [TokenID] = []
        var text = ""
        while generated.count < max(0, maxTokens) {
            let token = draw(logits, rng: &rng)
            if tokenizer.isSpecial(token) { break }
            generated.append(token)
            text = tokenizer.decode(generated, skipSpecial: true)
            if let end = text.range(of: field.isInline ? "\n" : "\n\n") {
                text = String(text[..<end.lowerBound])
                break
            }
            if WordCount.count(in: text) > maxWords {
                text = text.split(whereSeparator: { $0 == " " }).prefix(maxWords).joined(separator: " ")
                break
            }
            tokens.append(token)
            logits = try transformer.cachedLogits(sequences: [tokens], rows: [[tokens.count - 1]],
                                                  outputRows: [[tokens.count - 1]], caches: [cache], attention: .causal)[0]
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Nucleus sampling over the samplable vocabulary.
    private func draw(_ logits: LogitMatrix, rng: inout SeededGenerator) -> TokenID {
        let n = min(logits.width, tokenizer.vocabularySize)
        let row = logits[row: 0]
        let top = row.prefix(n).max() ?? 0
        var p = [Float](repeating: 0, count: n)
        var sum: Float = 0
        for i in 0..<n {
            let v = Float(Foundation.exp(Double((row[row.startIndex + i] - top) / max(temperature, 1e-3))))
            p[i] = v
            sum += v
        }
        let order = (0..<n).sorted { p[$0] > p[$1] }
        var kept: [Int] = [], mass: Float = 0
        for i in order {
            kept.append(i)
            mass += p[i] / sum
            if mass >= topP { break }
        }
        let keptSum = kept.reduce(Float(0)) { $0 + p[$1] }
        var u = Float(rng.nextUnit()) * keptSum
        for i in kept {
            u -= p[i]
            if u <= 0 { return TokenID(i) }
        }
        return TokenID(kept.last ?? 0)
    }
}
