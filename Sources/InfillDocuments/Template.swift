/// A parsed template: optional front matter, then literal text and `{{placeholders}}`.
///
/// The representation preserves layout: ``TemplateSegment/literal(_:)`` segments hold the
/// template's bytes exactly (an escape `{{{{` is stored as the `{{` it stands for), so rendering
/// with every placeholder replaced changes nothing else. Parse with ``TemplateParser``.
public struct Template: Sendable {
    /// The path used in messages.
    public var file: String
    /// The front matter, if the template starts with a `---` line.
    public var frontMatter: FrontMatter?
    /// Literal text and placeholders in document order.
    public var segments: [TemplateSegment]

    /// The placeholders in document order.
    public var placeholders: [Placeholder] {
        segments.compactMap { if case .placeholder(let p) = $0 { p } else { nil } }
    }

    /// The document bytes with each placeholder replaced by `replacement(placeholder)`; the front
    /// matter is included byte for byte when `keepFrontMatter` is true.
    public func render(keepFrontMatter: Bool, _ replacement: (Placeholder) -> [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        if keepFrontMatter, let frontMatter { out += frontMatter.bytes }
        for segment in segments {
            switch segment {
            case .literal(let bytes): out += bytes
            case .placeholder(let p): out += replacement(p)
            }
        }
        return out
    }
}

/// A template's YAML front matter: the block between the opening `---` and closing `---` lines.
public struct FrontMatter: Sendable {
    /// The whole block, delimiter lines included, byte for byte (kept by `front_matter: keep`).
    public var bytes: [UInt8]
    /// `pipeline: NAME`, if given.
    public var pipeline: Located<String>?
    /// Every other top-level scalar value, usable as a `{{variable}}`.
    public var values: [String: Located<String>]
    /// Top-level keys whose values are lists or mappings (metadata, not usable as variables).
    public var structuredKeys: [String: SourceLocation]
}

/// One piece of a template.
public enum TemplateSegment: Sendable {
    /// Text copied to the output unchanged.
    case literal([UInt8])
    /// A `{{name}}` or `{{name | constraints}}`.
    case placeholder(Placeholder)
}

/// A `{{name}}` or `{{name | constraints}}` in a template.
public struct Placeholder: Sendable {
    /// The variable or field name.
    public var name: String
    /// Where the `{{` is.
    public var location: SourceLocation
    /// Inline constraints after `|` (an empty list after `|` still makes it a field).
    public var constraints: FieldSpec?

    /// Names are ASCII letters, digits, `_` and `-`, starting with a letter or `_`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
