import InfillDiagnostics

/// A tone a pipeline defines next to the built-in ones: words to prefer and to avoid.
///
/// ```yaml
/// tones:
///   house-style: { prefer: [we, our, customers], avoid: [synergy], strength: 2.0 }
///   very-formal: { base: formal, strength: 2.5 }   # a built-in tone's words, stronger
/// ```
public struct CustomTone: Sendable, Hashable {
    /// Words whose tokens get a positive logit bias (and score +1 each in the tone score).
    public var prefer: [Located<String>] = []
    /// Words whose tokens get a negative bias (and score −1 each); not banned.
    public var avoid: [Located<String>] = []
    /// A built-in tone whose words this one starts from (its own words override them).
    public var base: Located<String>?
    /// Multiplies the bias (default 1; 0 = score only, no steering).
    public var strength: Double = 1
    /// An optional instruction placed before fields in this tone.
    public var instruction: String?
    /// Where it was defined.
    public var location: SourceLocation

    public init(location: SourceLocation) { self.location = location }

    static let keys = ["base", "prefer", "avoid", "strength", "instruction"]

    static func decode(_ node: YAMLNode, what: String) throws -> CustomTone {
        var tone = CustomTone(location: node.location)
        let entries = try node.mapping(allowed: keys, what: what)
        if let e = entries["base"] {
            let name = try e.value.string("'base' of \(what)")
            guard ToneCatalog.resolveName(name) != nil else {
                throw DocumentError("'base' of \(what) must be a built-in tone, found '\(name)'", at: e.value.location,
                                    hint: EditDistance.hint(for: name, among: ToneCatalog.builtInNames))
            }
            tone.base = Located(name, at: e.value.location)
        }
        if let e = entries["prefer"] { tone.prefer = try e.value.strings("'prefer' of \(what)") }
        if let e = entries["avoid"] { tone.avoid = try e.value.strings("'avoid' of \(what)") }
        if let e = entries["strength"] { tone.strength = try e.value.double("'strength' of \(what)", in: 0...10) }
        if let e = entries["instruction"] { tone.instruction = try e.value.optionalString("'instruction' of \(what)") }
        guard !tone.prefer.isEmpty || !tone.avoid.isEmpty || tone.base != nil else {
            throw DocumentError("\(what) has no words", at: node.location,
                                hint: "give it 'prefer: [..]' and/or 'avoid: [..]', or 'base: TONE'")
        }
        return tone
    }
}
