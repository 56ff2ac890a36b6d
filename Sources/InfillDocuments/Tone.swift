/// A tone: signed word weights that both steer sampling (as logit biases) and score results.
///
/// Positive weights are words the tone prefers, negative ones words it avoids. A text's
/// ``score(_:)`` is the sum of the weights of its words per 100 words, so it is comparable across
/// lengths; higher means more in the tone.
public struct Tone: Sendable {
    /// The tone's name as written in the pipeline (aliases resolved).
    public var name: String
    /// Lower-case words or phrases and their weights (about −1…1).
    public var weights: [String: Double]
    /// Scales the logit bias (1 = the default strength).
    public var strength: Double
    /// A sentence placed before the gap, if the tone defines one.
    public var instruction: String?

    public init(name: String, weights: [String: Double], strength: Double = 1, instruction: String? = nil) {
        self.name = name
        self.weights = weights
        self.strength = strength
        self.instruction = instruction
    }

    /// The text's tone score: the summed weights of its words (and phrases) per 100 words.
    public func score(_ text: String) -> Double {
        let words = Self.words(of: text)
        guard !words.isEmpty else { return 0 }
        var total = 0.0
        for word in words { total += weights[word] ?? 0 }
        for (phrase, weight) in weights where phrase.contains(" ") {
            let parts = phrase.split(separator: " ").map(String.init)
            guard parts.count <= words.count else { continue }
            for start in 0...(words.count - parts.count) where Array(words[start..<(start + parts.count)]) == parts {
                total += weight
            }
        }
        return total * 100 / Double(words.count)
    }

    /// Lower-case words: runs of letters, digits, apostrophes and inner hyphens.
    static func words(of text: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            while let last = current.last, last == "-" || last == "'" { current.removeLast() }
            if !current.isEmpty { out.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                current.append(scalar)
            } else if (scalar == "'" || scalar == "’" || scalar == "-"), !current.isEmpty {
                current.append(scalar == "’" ? "'" : scalar)
            } else {
                flush()
            }
        }
        flush()
        return out
    }
}

/// The built-in tones, their aliases, and resolution of custom ones.
public enum ToneCatalog {
    /// The built-in tone names.
    public static let builtInNames = ["neutral", "positive", "negative", "formal", "casual", "enthusiastic", "cautious"]

    /// Other names users write for built-in tones.
    public static let aliases: [String: String] = [
        "upbeat": "enthusiastic", "excited": "enthusiastic", "optimistic": "positive", "pessimistic": "negative",
        "professional": "formal", "informal": "casual", "friendly": "casual", "careful": "cautious",
        "hedged": "cautious", "plain": "neutral",
    ]

    /// The built-in name `name` stands for (itself or via an alias), or nil.
    public static func resolveName(_ name: String) -> String? {
        builtInNames.contains(name) ? name : aliases[name]
    }

    /// A built-in tone by name or alias.
    public static func builtIn(_ name: String) -> Tone? {
        guard let resolved = resolveName(name) else { return nil }
        return cache[resolved]
    }

    /// A pipeline's custom tone.
    public static func custom(_ name: String, _ spec: CustomTone) -> Tone {
        var weights = spec.base.flatMap { builtIn($0.value)?.weights } ?? [:]
        for word in spec.prefer { weights[word.value.lowercased()] = 1 }
        for word in spec.avoid { weights[word.value.lowercased()] = -1 }
        return Tone(name: name, weights: weights, strength: spec.strength, instruction: spec.instruction)
    }

    private static let cache: [String: Tone] = {
        let vader = ToneLexicon.vader
        var tones: [String: Tone] = [:]
        tones["positive"] = Tone(name: "positive", weights: vader.mapValues { $0 / 4 })
        tones["negative"] = Tone(name: "negative", weights: vader.mapValues { -$0 / 4 })
        // Neutral: strongly valenced words, either way, count against it; 0 is the best score.
        tones["neutral"] = Tone(name: "neutral", weights: vader.filter { abs($0.value) >= 1 }.mapValues { -abs($0) / 4 })
        tones["formal"] = Tone(name: "formal", weights: ToneLexicon.list(named: "formal"))
        tones["casual"] = Tone(name: "casual", weights: ToneLexicon.list(named: "casual"))
        tones["cautious"] = Tone(name: "cautious", weights: ToneLexicon.list(named: "cautious"))
        // Enthusiastic: the list, plus VADER's strongly positive words at half weight.
        var enthusiastic = vader.filter { $0.value >= 2 }.mapValues { _ in 0.5 }
        enthusiastic.merge(ToneLexicon.list(named: "enthusiastic")) { _, list in list }
        tones["enthusiastic"] = Tone(name: "enthusiastic", weights: enthusiastic)
        return tones
    }()
}
