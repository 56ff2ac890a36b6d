import Foundation
import InfillDocuments
import InfillModel
import InfillSampling

/// The baseline a diffusion fill has to beat: the autoregressive parent continuing the document
/// left to right at each field, seeing only the text before it.
///
/// Each field in document order continues the body so far (earlier fields as this baseline
/// filled them), with nucleus sampling and a KV cache, until the model ends its text, the field's
/// paragraph (a block field) or line (an in-line field) ends, or its word maximum is reached.
/// Instructions are laid out as the diffusion canvas has them: in parentheses before the field
/// (``InstructionLayout/inline``), or with ``InstructionLayout/chat`` and a ``chatTemplate`` the
/// body is the assistant's turn after a user turn asking for every field of the document
/// (``InstructionTurn``, as the canvas of a document filled in one unit), kept whole when the
/// body is cut to ``contextLimit``.
package struct AutoregressiveBaseline: Sendable {
    package let transformer: Transformer
    package let tokenizer: any Tokenizer
    package var temperature: Float = 0.7
    package var topP: Float = 0.9
    package var contextLimit = 384
    /// The AR model's chat template, for ``InstructionLayout/chat`` (for the default model the
    /// same GGUF's, so the same as the diffusion canvas's).
    package var chatTemplate: ChatTemplate?

    package init(transformer: Transformer, tokenizer: any Tokenizer, chatTemplate: ChatTemplate? = nil) {
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
    }

    /// One text per field of `plan`, in field order, its instructions where `layout` puts them.
    package func fill(_ plan: DocumentPlan, seed: UInt64, layout: InstructionLayout = .inline) throws -> [String] {
        var fills: [Int: String] = [:]
        var rng = SeededGenerator(seed: seed)
        let header = InstructionTurn(fields: plan.fields, template: chatTemplate, layout: layout)
            .flatMap { ChatTemplate.encode($0.start, tokenizer: tokenizer) }
        for index in plan.fields.indices {
            let field = plan.fields[index]
            var before = DocumentText.around(plan, field: index, fills: fills).before
            if field.isInline { while before.hasSuffix(" ") { before.removeLast() } }
            if header == nil, let instruction = field.inlineInstruction(after: before.utf8.last) {
                before += instruction
            }
            fills[index] = try continueText(before, after: header ?? [], field: field, rng: &rng)
        }
        return plan.fields.indices.map { fills[$0] ?? "" }
    }

    /// The field's text continuing `context` (its tail, after `header`'s tokens).
    private func continueText(_ context: String, after header: [TokenID], field: PlannedField,
                              rng: inout SeededGenerator) throws -> String {
        var tokens = header + Array(tokenizer.encode(context).suffix(max(0, contextLimit - header.count)))
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
