import InfillModel

/// Turns a ``Tone`` into logit biases over a tokenizer's vocabulary.
///
/// Each lexicon word is tokenised as a user would meet it — with and without a leading space,
/// lower-case and capitalised — and its first token gets `weight × strength × scale`. Words that
/// take more than two tokens, or whose first token is a short fragment (fewer than 3 letters,
/// such as " un"), are skipped: biasing a fragment would push every word that starts with it.
/// Two-token words bias their first token at half weight. Where several words share a token the
/// biases add up, clamped to ±`scale × strength`.
public enum ToneBiasCompiler {
    /// Logit units per unit of word weight at strength 1.
    public static let scale: Float = 1

    public static func bias(for tone: Tone, tokenizer: any Tokenizer, samplableVocabularySize: Int) -> [TokenID: Float] {
        var bias: [TokenID: Float] = [:]
        let limit = scale * Float(tone.strength)
        guard limit > 0 else { return [:] }
        for (word, weight) in tone.weights.sorted(by: { $0.key < $1.key }) where weight != 0 {
            var seen: Set<TokenID> = []
            let capitalised = word.prefix(1).uppercased() + word.dropFirst()
            for variant in [" " + word, word, " " + capitalised, capitalised] {
                let ids = tokenizer.encode(variant)
                guard let first = ids.first, ids.count <= 2, Int(first) < samplableVocabularySize,
                      !tokenizer.isSpecial(first), !seen.contains(first) else { continue }
                let letters = String(decoding: tokenizer.bytes(of: first), as: UTF8.self).unicodeScalars
                    .filter { $0.properties.isAlphabetic }.count
                guard letters >= 3 || ids.count == 1 && letters == word.count else { continue }
                seen.insert(first)
                let share: Float = ids.count == 1 ? 1 : 0.5
                bias[first, default: 0] += Float(weight) * Float(tone.strength) * scale * share
            }
        }
        return bias.mapValues { max(-limit, min(limit, $0)) }
    }
}
