/// Levenshtein distance and "did you mean" suggestions for misspelt keys and names.
enum EditDistance {
    /// The number of single-character insertions, deletions and substitutions from `a` to `b`.
    static func between(_ a: String, _ b: String) -> Int {
        let x = Array(a.lowercased().unicodeScalars), y = Array(b.lowercased().unicodeScalars)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }

    /// The closest of `candidates` to `word`, if it is close enough to be a plausible typo
    /// (at most a third of the word's length, and at least 1, edits away).
    static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(1, min(3, word.count / 3 + 1))
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = between(word, candidate)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// `did you mean 'x'?`, or a list of the valid choices when nothing is close.
    static func hint(for word: String, among candidates: [String]) -> String {
        if let near = suggestion(for: word, among: candidates) { return "did you mean '\(near)'?" }
        return "expected one of: " + candidates.joined(separator: ", ")
    }
}
