/// Levenshtein distance and "did you mean" suggestions for misspelt keys and names.
///
/// The one rule for every layer: the pipelines, templates and the daemon's configuration all
/// suggest through ``suggestion(for:among:)``, so the same typo gets the same hint everywhere.
public enum EditDistance {
    /// The number of single-character insertions, deletions and substitutions from `a` to `b`,
    /// ignoring case.
    public static func between(_ a: String, _ b: String) -> Int {
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

    /// The most edits a candidate may be from `word` and still count as its typo: a third of the
    /// word's length plus one, at least 1 and at most 3.
    public static func limit(for word: String) -> Int {
        max(1, min(3, word.count / 3 + 1))
    }

    /// The closest of `candidates` to `word` (the first on ties), if it is within
    /// ``limit(for:)`` edits.
    public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let limit = limit(for: word)
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let d = between(word, candidate)
            if d <= limit, d < (best?.distance ?? Int.max) { best = (candidate, d) }
        }
        return best?.name
    }

    /// `did you mean 'x'?` for the closest candidate, or nil when nothing is close.
    public static func didYouMean(_ word: String, among candidates: some Sequence<String>) -> String? {
        suggestion(for: word, among: candidates).map { "did you mean '\($0)'?" }
    }

    /// `did you mean 'x'?`, or a list of the valid choices when nothing is close.
    public static func hint(for word: String, among candidates: [String]) -> String {
        didYouMean(word, among: candidates) ?? "expected one of: " + candidates.joined(separator: ", ")
    }
}
