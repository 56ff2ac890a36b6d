import InfillDiagnostics

/// A pipeline: how templates of one kind are filled (`pipelines/*.yaml`).
///
/// ```yaml
/// name: product-brief
/// match: "*.brief.md"
/// output: { name: "{stem}.md", report: true, front_matter: drop }
/// sampling: { steps: 32, algorithm: entropy, temperature: 0.3, seed: 7, candidates: 1 }
/// variables: { company: Acme, client: ~ }   # ~ = must come from the template's front matter
/// fields:
///   summary: { words: 20-40, keywords: [battery life], tone: enthusiastic }
/// tones:
///   house-style: { prefer: [we, our], avoid: [synergy], strength: 2.0 }
/// ```
/// Decoding is strict: unknown keys, wrong types and duplicate keys are errors at their line
/// and column (see ``PipelineSpec/parse(_:file:)``).
public struct PipelineSpec: Sendable, Hashable {
    /// The pipeline's name (`pipeline: NAME` in a template's front matter selects it).
    public var name: String
    /// File-name globs (`*`, `?`, `[...]`) of the templates this pipeline fills.
    public var match: [Located<String>] = []
    public var output = OutputSpec()
    public var sampling = SamplingSettings()
    /// Variable defaults; nil = required, the template's front matter must give it.
    public var variables: [String: Located<String?>] = [:]
    /// Generated fields by name.
    public var fields: [String: FieldSpec] = [:]
    /// Custom tones by name.
    public var tones: [String: CustomTone] = [:]
    /// The file it came from (or a label).
    public var file: String

    public init(name: String, file: String) {
        self.name = name
        self.file = file
    }

    static let keys = ["name", "match", "output", "sampling", "variables", "fields", "tones"]

    /// Parses and validates a pipeline spec from its YAML text.
    ///
    /// - Parameters:
    ///   - text: the YAML.
    ///   - file: the path used in error messages; its stem is the default name.
    /// - Throws: ``DocumentError`` at the first problem.
    public static func parse(_ text: String, file: String) throws -> PipelineSpec {
        let locate: YAMLParsing.Locator = { SourceLocation(file: file, line: $0, column: $1) }
        guard let root = try YAMLParsing.parse(text, locate: locate) else {
            throw DocumentError("the pipeline file is empty", file: file, hint: "a pipeline needs at least 'name:' and 'fields:'")
        }
        let entries = try root.mapping(allowed: keys, what: "a pipeline")
        let defaultName = file.split(separator: "/").last.map { name in
            String(name.split(separator: ".", omittingEmptySubsequences: false).first ?? name)
        } ?? file
        var spec = PipelineSpec(name: defaultName, file: file)
        if let e = entries["name"] {
            spec.name = try e.value.string("'name'")
            guard Placeholder.isValidName(spec.name) else {
                throw DocumentError("'name' must be letters, digits, '-' or '_', found '\(spec.name)'", at: e.value.location)
            }
        }
        if let e = entries["match"] {
            spec.match = try e.value.strings("'match'")
            for glob in spec.match where glob.value.contains("/") {
                throw DocumentError("'match' globs apply to file names, not paths: '\(glob.value)'", at: glob.location,
                                    hint: "drop the folder part, e.g. \"*.brief.md\"")
            }
        }
        if let e = entries["output"] { spec.output = try OutputSpec.decode(e.value, what: "'output'") }
        if let e = entries["sampling"] { spec.sampling = try SamplingSettings.decode(e.value, what: "'sampling'") }
        if let e = entries["variables"] {
            for v in try e.value.namedEntries(what: "'variables'") {
                try checkName(v.key, at: v.keyLocation, kind: "variable")
                let value = try v.value.optionalString("variable '\(v.key)'")
                spec.variables[v.key] = Located(value, at: v.value.location)
            }
        }
        if let e = entries["tones"] {
            for t in try e.value.namedEntries(what: "'tones'") {
                try checkName(t.key, at: t.keyLocation, kind: "tone")
                if ToneCatalog.builtInNames.contains(t.key) {
                    throw DocumentError("tone '\(t.key)' is built in and cannot be redefined", at: t.keyLocation,
                                        hint: "choose another name, such as '\(t.key)-house'")
                }
                spec.tones[t.key] = try CustomTone.decode(t.value, what: "tone '\(t.key)'")
            }
        }
        if let e = entries["fields"] {
            for f in try e.value.namedEntries(what: "'fields'") {
                try checkName(f.key, at: f.keyLocation, kind: "field")
                if spec.variables[f.key] != nil {
                    throw DocumentError("'\(f.key)' is both a variable and a field", at: f.keyLocation,
                                        hint: "a placeholder is either given (variable) or generated (field)")
                }
                spec.fields[f.key] = try FieldSpec.decode(f.value, what: "field '\(f.key)'")
            }
        }
        for (_, field) in spec.fields { try spec.checkTone(of: field) }
        return spec
    }

    /// Refuses a field whose tone is neither built in nor defined in ``tones``.
    func checkTone(of field: FieldSpec) throws {
        guard let tone = field.tone else { return }
        if ToneCatalog.resolveName(tone.value) != nil || tones[tone.value] != nil { return }
        let known = ToneCatalog.builtInNames + tones.keys.sorted()
        throw DocumentError("unknown tone '\(tone.value)'", at: tone.location,
                            hint: EditDistance.hint(for: tone.value, among: known) + " (or define it under 'tones:')")
    }

    private static func checkName(_ name: String, at location: SourceLocation, kind: String) throws {
        guard Placeholder.isValidName(name) else {
            throw DocumentError("\(kind) name '\(name)' must be letters, digits, '-' or '_' and start with a letter or '_'",
                                at: location)
        }
    }
}

/// File-name glob matching (`*`, `?`, `[abc]`, `[!abc]`), as shells match names.
enum Glob {
    static func matches(pattern: String, name: String) -> Bool {
        match(Array(pattern.unicodeScalars), 0, Array(name.unicodeScalars), 0)
    }

    private static func match(_ p: [Unicode.Scalar], _ pi: Int, _ n: [Unicode.Scalar], _ ni: Int) -> Bool {
        var pi = pi, ni = ni
        while pi < p.count {
            switch p[pi] {
            case "*":
                // Collapse runs of '*', then try every split.
                while pi < p.count, p[pi] == "*" { pi += 1 }
                if pi == p.count { return true }
                for start in ni...n.count where match(p, pi, n, start) { return true }
                return false
            case "?":
                guard ni < n.count else { return false }
                pi += 1; ni += 1
            case "[":
                guard ni < n.count, let close = p[(pi + 1)...].firstIndex(of: "]"), close > pi + 1 else {
                    guard ni < n.count, n[ni] == "[" else { return false }
                    pi += 1; ni += 1
                    continue
                }
                var set = Array(p[(pi + 1)..<close])
                let negate = set.first == "!" || set.first == "^"
                if negate { set.removeFirst() }
                var found = false, i = 0
                while i < set.count {
                    if i + 2 < set.count, set[i + 1] == "-" {
                        if set[i].value <= n[ni].value && n[ni].value <= set[i + 2].value { found = true }
                        i += 3
                    } else {
                        if set[i] == n[ni] { found = true }
                        i += 1
                    }
                }
                guard found != negate else { return false }
                pi = close + 1; ni += 1
            default:
                guard ni < n.count, n[ni] == p[pi] else { return false }
                pi += 1; ni += 1
            }
        }
        return ni == n.count
    }
}
