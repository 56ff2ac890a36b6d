/// The embedded lexicons, parsed once: VADER valences and the project's register word lists.
enum ToneLexicon {
    /// VADER mean valence (−4…4) by lower-case word.
    static let vader: [String: Double] = {
        var out: [String: Double] = [:]
        for line in ToneLexiconData.vader.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let v = Double(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }()

    /// A project word list as weights: `+word` → +1, `-word` → −1.
    static func list(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let sign = line.first else { continue }
            out[String(line.dropFirst())] = sign == "-" ? -1 : 1
        }
        return out
    }
}
