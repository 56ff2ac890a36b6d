import Foundation
import InfillDiagnostics

/// The pipelines of a folder (`*.yaml`, `*.yml`), and how a template picks one.
///
/// Loading never stops at a broken file: good specs are kept in ``pipelines`` and each broken
/// file's error is in ``errors``, so a daemon can keep serving while `infill check` reports all.
public struct PipelineLibrary: Sendable {
    /// Valid pipelines, sorted by file name.
    public private(set) var pipelines: [PipelineSpec]
    /// One error per file that could not be loaded (and per duplicate pipeline name).
    public private(set) var errors: [DocumentError]
    /// The `name:` each broken file gives itself (read from its top-level line when the file as
    /// a whole does not parse), so a template naming it hears why it is missing.
    private var brokenNames: [String: DocumentError] = [:]

    /// A library of the given specs (duplicate names: the first wins, the rest are errors).
    public init(pipelines: [PipelineSpec], errors: [DocumentError] = []) {
        self.pipelines = []
        self.errors = errors
        for spec in pipelines { add(spec) }
    }

    /// An empty library: templates then use ``PipelineSpec/default`` unless they name a pipeline.
    public static let empty = PipelineLibrary(pipelines: [])

    /// Loads every `*.yaml` / `*.yml` file directly in `directory` (not recursively, dotfiles skipped).
    ///
    /// - Throws: ``DocumentError`` only when the folder itself cannot be read.
    public static func load(directory: String) throws -> PipelineLibrary {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw DocumentError("cannot read the pipelines folder", file: directory,
                                hint: "check that it exists and is readable", isPermanent: false)
        }
        var library = PipelineLibrary(pipelines: [])
        for name in names.sorted() where !name.hasPrefix(".") && (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            library.load(file: path)
        }
        return library
    }

    /// Loads one pipeline file into the library, recording its error if it is broken.
    public mutating func load(file path: String) {
        do {
            add(try Self.loadSpec(file: path))
        } catch let error as DocumentError {
            errors.append(error)
            if let name = Self.declaredName(file: path), brokenNames[name] == nil { brokenNames[name] = error }
        } catch {
            errors.append(DocumentError("cannot load: \(error)", file: path))
        }
    }

    /// Adds the pipelines of `other` as fallbacks: where the library already holds a pipeline of
    /// the same name, that one wins silently (not a duplicate error). The names of `other`'s
    /// broken files come along, so a template naming one still hears why it is missing.
    public mutating func addFallbacks(from other: PipelineLibrary, skippingFiles skipped: [String] = []) {
        for spec in other.pipelines where !skipped.contains(spec.file) && pipeline(named: spec.name) == nil {
            pipelines.append(spec)
        }
        for (name, error) in other.brokenNames where brokenNames[name] == nil && pipeline(named: name) == nil {
            brokenNames[name] = error
        }
    }

    /// Reads and parses one pipeline file.
    public static func loadSpec(file path: String) throws -> PipelineSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DocumentError("cannot read the file", file: path, hint: "check that it exists and is readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DocumentError("the file is not valid UTF-8", file: path, line: 1, column: 1)
        }
        return try PipelineSpec.parse(text, file: path)
    }

    /// The pipeline called `name`.
    public func pipeline(named name: String) -> PipelineSpec? {
        pipelines.first { $0.name == name }
    }

    /// The pipeline for a template: the one its front matter names, else
    /// ``pipeline(forFileNamed:)``.
    ///
    /// - Throws: ``DocumentError`` at the front matter's `pipeline:` value when it names no
    ///   loaded pipeline.
    public func pipeline(for template: Template, fileName: String) throws -> PipelineSpec {
        if let wanted = template.frontMatter?.pipeline {
            if let spec = pipeline(named: wanted.value) { return spec }
            if let broken = brokenNames[wanted.value] ?? errors.first(where: { $0.file.map(Self.stem(of:)) == wanted.value }) {
                throw DocumentError("pipeline '\(wanted.value)' could not be loaded: \(broken.description)",
                                    at: wanted.location, hint: "fix the pipeline file first (infill check)")
            }
            var hint = EditDistance.hint(for: wanted.value, among: pipelines.map(\.name))
            if pipelines.isEmpty { hint = "no pipelines are loaded; pass --pipeline FILE or --pipelines DIR" }
            throw DocumentError("unknown pipeline '\(wanted.value)'", at: wanted.location, hint: hint)
        }
        return pipeline(forFileNamed: fileName)
    }

    /// The pipeline whose `match` glob fits `fileName`, else ``PipelineSpec/default``: the one
    /// matching rule of `infill fill`, `infill check` and the daemon. The most specific glob
    /// wins (most literal characters), then file name order.
    public func pipeline(forFileNamed fileName: String) -> PipelineSpec {
        var best: (spec: PipelineSpec, specificity: Int)?
        for spec in pipelines {
            for glob in spec.match where Glob.matches(pattern: glob.value, name: fileName) {
                let specificity = glob.value.unicodeScalars.filter { !"*?[]".unicodeScalars.contains($0) }.count
                if specificity > (best?.specificity ?? -1) { best = (spec, specificity) }
            }
        }
        return best?.spec ?? .default
    }

    private mutating func add(_ spec: PipelineSpec) {
        if let existing = pipeline(named: spec.name) {
            errors.append(DocumentError("pipeline name '\(spec.name)' is already used by \(existing.file)",
                                        file: spec.file, line: 1, column: 1, hint: "give each pipeline its own 'name:'"))
            return
        }
        pipelines.append(spec)
    }

    /// The value of a top-level `name:` line of the file at `path` (quotes dropped), if any.
    private static func declaredName(file path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else { return nil }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix("name:") {
            var value = line.dropFirst(5).split(separator: "#").first.map(String.init) ?? ""
            value = value.trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    private static func stem(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return String(name.split(separator: ".").first ?? Substring(name))
    }
}

extension PipelineSpec {
    /// The pipeline used when a template names none and no `match` glob fits: default sampling,
    /// no variables, fields only from inline constraints.
    public static let `default` = PipelineSpec(name: "default", file: "<default pipeline>")
}
