import Foundation

/// What `infill check` does: validate pipelines and templates, files or folders, and list every
/// error with its file:line:column.
public enum DocumentChecker {
    /// The outcome of a check.
    public struct Report: Sendable {
        /// Every problem found, in file order.
        public var errors: [DocumentError]
        /// Pipeline files and templates looked at.
        public var pipelineFiles: [String]
        public var templateFiles: [String]
    }

    /// Checks the given files and folders.
    ///
    /// Folders are walked recursively: `*.yaml`/`*.yml` files are pipelines, other text files
    /// (`README*`, `LICENSE*`, `*.json` and dotfiles aside) are templates. Templates are resolved
    /// against every pipeline found plus those of `pipelineDirectories`.
    /// - Parameter filler: when given, also runs the checks that need the model's tokenizer
    ///   (keywords that take more tokens than a field allows).
    public static func check(paths: [String], pipelineDirectories: [String] = [], filler: DocumentFiller? = nil) -> Report {
        var pipelineFiles: [String] = []
        var templateFiles: [String] = []
        var errors: [DocumentError] = []
        for path in paths { collect(path, pipelines: &pipelineFiles, templates: &templateFiles, errors: &errors) }
        var library = PipelineLibrary(pipelines: [])
        for file in pipelineFiles { library.load(file: file) }
        for directory in pipelineDirectories {
            do {
                let extra = try PipelineLibrary.load(directory: directory)
                // Fallback pipelines: a name already found among the checked files wins silently.
                library.addFallbacks(from: extra, skippingFiles: pipelineFiles)
            } catch let error as DocumentError {
                errors.append(error)
            } catch {
                errors.append(DocumentError("\(error)", file: directory))
            }
        }
        errors += library.errors
        if let filler {
            for spec in library.pipelines where pipelineFiles.contains(spec.file) {
                errors += tokenChecks(spec, filler: filler)
            }
        }
        for file in templateFiles {
            guard let data = FileManager.default.contents(atPath: file) else {
                errors.append(DocumentError("cannot read the file", file: file))
                continue
            }
            let name = file.split(separator: "/").last.map(String.init) ?? file
            do {
                let plan = try DocumentFiller.plan(name: name, contents: Array(data), file: file, library: library)
                if let filler { _ = try filler.compile(plan) }
            } catch let e as DocumentErrors {
                errors += e.errors
            } catch let e as DocumentError {
                errors.append(e)
            } catch {
                errors.append(DocumentError("\(error)", file: file))
            }
        }
        return Report(errors: errors, pipelineFiles: pipelineFiles, templateFiles: templateFiles)
    }

    /// The model-dependent checks of a pipeline's own fields.
    private static func tokenChecks(_ spec: PipelineSpec, filler: DocumentFiller) -> [DocumentError] {
        var errors: [DocumentError] = []
        for name in spec.fields.keys.sorted() {
            guard let fieldSpec = spec.fields[name] else { continue }
            let tone = fieldSpec.tone.flatMap { t in
                spec.tones[t.value].map { ToneCatalog.custom(t.value, $0) } ?? ToneCatalog.builtIn(t.value)
            }
            let field = PlannedField(name: name, spec: fieldSpec, tone: tone,
                                     sampling: ResolvedSampling(spec.sampling.overriding(with: fieldSpec.sampling)),
                                     location: fieldSpec.location, isInline: false)
            let plan = DocumentPlan(template: Template(file: spec.file, frontMatter: nil, segments: []),
                                    pipeline: spec, pieces: [], fields: [field])
            do { _ = try filler.compile(plan) } catch let e as DocumentError { errors.append(e) } catch {}
        }
        return errors
    }

    private static func collect(_ path: String, pipelines: inout [String], templates: inout [String], errors: inout [DocumentError]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            errors.append(DocumentError("no such file or folder", file: path))
            return
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                let child = path.hasSuffix("/") ? path + name : path + "/" + name
                var childIsDirectory: ObjCBool = false
                _ = FileManager.default.fileExists(atPath: child, isDirectory: &childIsDirectory)
                if childIsDirectory.boolValue {
                    collect(child, pipelines: &pipelines, templates: &templates, errors: &errors)
                } else if isPipeline(name) {
                    pipelines.append(child)
                } else if isTemplate(name) {
                    templates.append(child)
                }
            }
        } else if isPipeline(path) {
            pipelines.append(path)
        } else {
            templates.append(path)
        }
    }

    static func isPipeline(_ name: String) -> Bool { name.hasSuffix(".yaml") || name.hasSuffix(".yml") }

    static func isTemplate(_ name: String) -> Bool {
        let upper = name.uppercased()
        return !(upper.hasPrefix("README") || upper.hasPrefix("LICENSE") || name.hasSuffix(".json")
            || name.hasSuffix(".tmp") || name.hasSuffix(".part"))
    }
}
