import InfillDiagnostics

/// A template resolved against its pipeline: variables substituted, fields with their merged
/// constraints, tones and sampler settings. Built by ``DocumentPlan/make(template:pipeline:)``,
/// which finds every problem a model is not needed for.
public struct DocumentPlan: Sendable {
    /// One piece of the document body.
    public enum Piece: Sendable {
        /// Literal template text or a substituted variable value: copied to the output as is.
        case text([UInt8])
        /// The field at this index of ``DocumentPlan/fields``.
        case field(Int)
    }

    public var template: Template
    public var pipeline: PipelineSpec
    /// The body in order (front matter excluded).
    public var pieces: [Piece]
    /// The generated fields in document order.
    public var fields: [PlannedField]

    /// Resolves `template` against `pipeline`.
    ///
    /// - Throws: ``DocumentErrors`` listing every problem (unknown placeholders, variables
    ///   without a value, unknown tones, contradictory constraints, fields used twice).
    public static func make(template: Template, pipeline: PipelineSpec) throws(DocumentErrors) -> DocumentPlan {
        var errors: [DocumentError] = []
        var pieces: [Piece] = []
        var fields: [PlannedField] = []
        var fieldIndex: [String: Int] = [:]
        let frontValues = template.frontMatter?.values ?? [:]
        let segments = template.segments

        for (i, segment) in segments.enumerated() {
            guard case .placeholder(let p) = segment else {
                if case .literal(let bytes) = segment { pieces.append(.text(bytes)) }
                continue
            }
            do {
                if let value = try variableValue(p, frontValues: frontValues, template: template, pipeline: pipeline) {
                    pieces.append(.text(Array(value.utf8)))
                    continue
                }
                if let first = fieldIndex[p.name] {
                    throw DocumentError(
                        "field '\(p.name)' appears more than once (first at line \(fields[first].location.line))",
                        at: p.location, hint: "each field is generated once; give the second one another name")
                }
                var spec = pipeline.fields[p.name] ?? FieldSpec(location: p.location)
                if let inline = p.constraints { spec = spec.merging(inline) }
                try spec.checkConsistency(what: "field '\(p.name)'")
                try pipeline.checkTone(of: spec)
                let tone = spec.tone.flatMap { t in
                    pipeline.tones[t.value].map { ToneCatalog.custom(t.value, $0) } ?? ToneCatalog.builtIn(t.value)
                }
                let field = PlannedField(
                    name: p.name, spec: spec, tone: tone,
                    sampling: ResolvedSampling(pipeline.sampling.overriding(with: spec.sampling)),
                    location: p.location, isInline: isInline(at: i, in: segments), isQuoted: isQuoted(at: i, in: segments),
                    isHeading: isHeading(at: i, in: segments))
                fieldIndex[p.name] = fields.count
                pieces.append(.field(fields.count))
                fields.append(field)
            } catch let error as DocumentError {
                errors.append(error)
            } catch {
                errors.append(DocumentError("\(error)", at: p.location))
            }
        }
        guard errors.isEmpty else { throw DocumentErrors(errors) }
        return DocumentPlan(template: template, pipeline: pipeline, pieces: pieces, fields: fields)
    }

    /// The value of a variable placeholder, nil if it is a field; throws if it is neither.
    private static func variableValue(
        _ p: Placeholder, frontValues: [String: Located<String>], template: Template, pipeline: PipelineSpec
    ) throws -> String? {
        if p.constraints != nil {
            if frontValues[p.name] != nil || pipeline.variables[p.name] != nil {
                throw DocumentError("'\(p.name)' is a variable but has constraints", at: p.location,
                                    hint: "constraints are for generated fields; rename the field or drop the constraints")
            }
            return nil
        }
        if let value = frontValues[p.name] { return value.value }
        if let declared = pipeline.variables[p.name] {
            guard let value = declared.value else {
                throw DocumentError(
                    "variable '\(p.name)' has no value", at: p.location,
                    hint: "give it in the template's front matter ('\(p.name): …'); pipeline \(pipeline.name) requires it (\(declared.location))")
            }
            return value
        }
        if pipeline.fields[p.name] != nil { return nil }
        if let at = template.frontMatter?.structuredKeys[p.name] {
            throw DocumentError("'\(p.name)' in the front matter (line \(at.line)) is a list or mapping, not text", at: p.location,
                                hint: "give it a plain text value")
        }
        let known = Array(frontValues.keys) + Array(pipeline.variables.keys) + Array(pipeline.fields.keys)
        var hint = pipeline.name == PipelineSpec.default.name && pipeline.file == PipelineSpec.default.file
            ? "no pipeline applies to this template: name one in the front matter ('pipeline: NAME'), or add constraints: {{\(p.name) | words: 10-30}}"
            : "declare it under 'fields:' of pipeline \(pipeline.name), give it a value in the front matter, or add constraints: {{\(p.name) | words: 10-30}}"
        if let near = EditDistance.suggestion(for: p.name, among: known.sorted()) { hint = "did you mean '\(near)'? Otherwise " + hint }
        throw DocumentError("unknown placeholder '\(p.name)'", at: p.location, hint: hint)
    }

    /// Whether the placeholder at `index` sits between an opening and a closing quotation mark
    /// (`"…"` or `“…”`), with nothing else between them.
    private static func isQuoted(at index: Int, in segments: [TemplateSegment]) -> Bool {
        guard index > 0, index + 1 < segments.count,
              case .literal(let before) = segments[index - 1], case .literal(let after) = segments[index + 1] else { return false }
        let opening = String(decoding: before.suffix(3), as: UTF8.self), closing = String(decoding: after.prefix(3), as: UTF8.self)
        return (opening.hasSuffix("\"") && closing.hasPrefix("\"")) || (opening.hasSuffix("“") && closing.hasPrefix("”"))
    }

    /// Whether the placeholder at `index` is the title of a Markdown heading line: its first
    /// text (`## {{headline}}`, `# {{title}} for {{client}}`) or what follows a label that ends
    /// with a colon or a dash (`# Talk abstract: {{title}}`, `## Release — {{name}}`).
    ///
    /// A title after a label is still a title: left free, a small model writes a date or a DOI
    /// there ("2018-08-20") and never reaches the field's word count.
    private static func isHeading(at index: Int, in segments: [TemplateSegment]) -> Bool {
        guard index > 0, case .literal(let bytes) = segments[index - 1] else { return false }
        let newline = bytes.lastIndex(of: 0x0A)
        // Without a line break this literal continues a line an earlier placeholder began.
        if newline == nil, index >= 2 { return false }
        let line = newline.map { bytes[($0 + 1)...] } ?? bytes[...]
        let hashes = line.prefix { $0 == 0x23 }.count
        let rest = line.dropFirst(hashes)
        guard (1...6).contains(hashes), let space = rest.first, space == 0x20 || space == 0x09 else { return false }
        // Only spaces after the hashes: the placeholder is the heading's first text.
        guard let separator = String(decoding: rest, as: UTF8.self).last(where: { $0 != " " && $0 != "\t" }) else { return true }
        return ":-–—".contains(separator)
    }

    /// Whether the placeholder at `index` shares its line with other text (then its fill must
    /// stay on one line).
    private static func isInline(at index: Int, in segments: [TemplateSegment]) -> Bool {
        func hasText(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.contains { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D } }
        if index > 0 {
            switch segments[index - 1] {
            case .placeholder: return true
            case .literal(let bytes):
                let tail = bytes.lastIndex(of: 0x0A).map { bytes[($0 + 1)...] } ?? bytes[...]
                if hasText(tail) { return true }
            }
        }
        if index + 1 < segments.count {
            switch segments[index + 1] {
            case .placeholder: return true
            case .literal(let bytes):
                let head = bytes.firstIndex(of: 0x0A).map { bytes[..<$0] } ?? bytes[...]
                if hasText(head) { return true }
            }
        }
        return false
    }
}

/// A generated field of a ``DocumentPlan``.
public struct PlannedField: Sendable {
    public var name: String
    /// The pipeline's spec with the placeholder's inline constraints laid over it.
    public var spec: FieldSpec
    /// The resolved tone, if any.
    public var tone: Tone?
    /// Sampler settings: pipeline `sampling:` overridden by the field's own.
    public var sampling: ResolvedSampling
    /// Where the placeholder is.
    public var location: SourceLocation
    /// True when the placeholder shares its line with other text: the fill is kept to one line.
    public var isInline: Bool
    /// True when the template puts the placeholder between quotation marks (`"{{quote}}" said …`):
    /// the fill may not hold one of its own, which would close the template's quote early.
    public var isQuoted = false
    /// True when the placeholder is a Markdown heading's title (`## {{headline}}`,
    /// `# Talk abstract: {{title}}`): like a paragraph, its fill opens with a letter, never with
    /// a section number or a date (`## 1.1.0 room.`, `2018-08-20`).
    public var isHeading = false
}

extension FieldSpec {
    /// This spec with every constraint `other` sets replacing ours (inline over pipeline).
    func merging(_ other: FieldSpec) -> FieldSpec {
        var out = self
        if !other.keywords.isEmpty { out.keywords = other.keywords }
        if !other.avoid.isEmpty { out.avoid = other.avoid }
        if let words = other.words { out.words = words }
        if let tokens = other.tokens { out.tokens = tokens }
        if let tone = other.tone { out.tone = tone }
        if let instruction = other.instruction { out.instruction = instruction }
        out.sampling = sampling.overriding(with: other.sampling)
        out.location = other.location
        return out
    }
}
