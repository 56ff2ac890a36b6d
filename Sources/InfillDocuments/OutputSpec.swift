/// Where and how a filled document is written: a pipeline's `output:`.
public struct OutputSpec: Sendable, Hashable {
    /// What happens to the template's front matter in the filled document.
    public enum FrontMatter: String, Sendable, Hashable {
        case keep, drop
    }

    /// The output file name pattern: `{name}` = the input's file name, `{stem}` = the name up to
    /// its first dot, `{ext}` = the text after its last dot. Default `{name}`.
    public var name: String = "{name}"
    /// Whether `NAME.report.json` is written next to the document.
    public var report: Bool = true
    /// Keep or drop the front matter (default drop).
    public var frontMatter: FrontMatter = .drop
    /// Whether `NAME.html` is written next to the document: the page that shows the document
    /// with its fields' reports and replays the fill step by step (default false).
    public var html: Bool = false

    public init() {}

    static let keys = ["name", "report", "front_matter", "html"]

    /// The output file name for an input called `inputName` (a plain file name, no folders).
    public func outputName(for inputName: String) -> String {
        let stem = inputName.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? inputName
        let ext = inputName.contains(".") ? String(inputName.split(separator: ".").last ?? "") : ""
        return name.replacingAll("{name}", with: inputName).replacingAll("{stem}", with: stem).replacingAll("{ext}", with: ext)
    }

    static func decode(_ node: YAMLNode, what: String) throws -> OutputSpec {
        var spec = OutputSpec()
        if node.isNull { return spec }
        let entries = try node.mapping(allowed: keys, what: what)
        if let e = entries["name"] {
            let name = try e.value.string("'name' of \(what)")
            let hint = "use a file name pattern such as \"{stem}.md\"; {name}, {stem} and {ext} are replaced"
            guard !name.isEmpty, !name.contains("/"), name != ".", name != "..", !name.hasPrefix(".") else {
                throw DocumentError("'name' of \(what) must be a plain file name, found '\(name)'", at: e.value.location, hint: hint)
            }
            var rest = name
            for token in ["{name}", "{stem}", "{ext}"] { rest = rest.replacingAll(token, with: "") }
            if rest.contains("{") || rest.contains("}") {
                throw DocumentError("unknown substitution in 'name' of \(what): '\(name)'", at: e.value.location, hint: hint)
            }
            spec.name = name
        }
        if let e = entries["report"] { spec.report = try e.value.bool("'report' of \(what)") }
        if let e = entries["html"] { spec.html = try e.value.bool("'html' of \(what)") }
        if let e = entries["front_matter"] {
            spec.frontMatter = FrontMatter(rawValue: try e.value.choice("'front_matter' of \(what)", among: ["keep", "drop"])) ?? .drop
        }
        return spec
    }
}

extension String {
    /// Every occurrence of `target` replaced by `replacement` (no Foundation needed).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = "", rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}
