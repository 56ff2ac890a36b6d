import ArgumentParser
import Foundation
import InfillDocuments
import InfillModel

/// `infill fill TEMPLATE`: fill one template and print or write it with its report.
struct FillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill",
        abstract: "Fill one template with its pipeline.",
        discussion: """
            The pipeline is --pipeline FILE, or the one the template's front matter names or whose \
            'match' glob fits its file name among --pipelines DIR (default ./pipelines when it exists). \
            Without -o the document goes to stdout and a summary to stderr; with -o OUT, OUT and \
            OUT.report.json are written, and OUT.html when the pipeline says output: { html: true } \
            (the page --html PAGE writes anywhere: the document, its fields' reports and a replay \
            of every sampler step). On a terminal, a progress line (fields, steps, forward passes, \
            ETA) is redrawn on stderr while it fills; --quiet prints nothing but errors. \
            See docs/PIPELINES.md.
            """)

    @Argument(help: "The template file.")
    var template: String

    @Option(help: "Use this pipeline file.")
    var pipeline: String?

    @Option(help: "Pick the pipeline from this folder of *.yaml files (default ./pipelines).")
    var pipelines: String?

    @Option(name: [.short, .customLong("output")], help: "Write the document here and the report next to it (OUT.report.json).")
    var output: String?

    @Option(help: "Also write a self-contained page: the document with its fields and their reports, and a step-by-step replay.")
    var html: String?

    @Flag(name: [.short, .long], help: "Print nothing on stderr but errors: no progress line, no summary.")
    var quiet = false

    @OptionGroup var modelOptions: ModelOptions

    func run() async throws {
        try requireToneLexicons()
        if pipeline != nil && pipelines != nil { throw CLIError.usage("give either --pipeline or --pipelines, not both") }
        guard let data = FileManager.default.contents(atPath: template) else {
            throw CLIError.usage("\(template): cannot read the template")
        }
        let contents = Array(data)
        let name = URL(fileURLWithPath: template).lastPathComponent

        var forced: PipelineSpec?
        var library = PipelineLibrary.empty
        do {
            if let pipeline {
                forced = try PipelineLibrary.loadSpec(file: pipeline)
            } else if let directory = pipelines ?? (FileManager.default.fileExists(atPath: "pipelines") ? "pipelines" : nil) {
                library = try PipelineLibrary.load(directory: directory)
            }
        } catch let error as DocumentError {
            throw CLIError.usage(error.description)
        }

        // Everything that needs no model is checked before the model is loaded.
        let plan: DocumentPlan
        do {
            plan = try DocumentFiller.plan(name: name, contents: contents, file: template, pipeline: forced, library: library)
        } catch {
            throw Self.report(error.errors)
        }
        let model = try modelOptions.load()
        // One document with the whole machine: the parent's pass runs beside the denoiser's.
        let filler = DocumentFiller(model: model, library: library, overlapsParent: BLASThreads.current >= 2)
        let compiled: [CompiledField]
        do {
            compiled = try filler.compile(plan)
        } catch let error as DocumentError {
            throw CLIError.usage(error.description)
        }
        let filled: FilledDocument
        let display = FillProgressDisplay.forStandardError(quiet: quiet)
        defer { display?.finish() }
        var progress: (@Sendable (FillProgress) -> Void)?
        if let display { progress = { update in display.show(update) } }
        do {
            // Planned and compiled above, before the model was loaded: not again.
            filled = try filler.fill(plan, compiled: compiled, name: name, contents: contents,
                                     recordReplay: html != nil, progress: progress)
        } catch let error as DocumentError {
            display?.finish()
            throw CLIError.failed(error.description)
        }
        display?.finish()

        if let output {
            try write(filled.documentBytes, to: output)
            if let report = filled.reportBytes { try write(report, to: output + ".report.json") }
            if let page = filled.htmlBytes { try write(page, to: output + ".html") }
        } else {
            FileHandle.standardOutput.write(Data(filled.documentBytes))
            if filled.htmlBytes != nil, html == nil, !quiet {
                var stderr = StandardError()
                print("infill: the pipeline asks for a page (output.html); give -o OUT or --html PAGE to write it", to: &stderr)
            }
        }
        if let html, let replay = filled.replay {
            try write(filled.htmlBytes ?? Array(FillHTMLPage.render(report: filled.report, replay: replay).utf8), to: html)
        }
        guard !quiet else { return }
        var stderr = StandardError()
        let r = filled.report
        print("infill: filled \(r.fields.count) field(s) of \(template) with pipeline \(r.pipeline) in "
              + String(format: "%.2f", r.totalSeconds) + " s (\(r.totalForwardPasses) forward passes)", to: &stderr)
    }

    /// Prints every planning error on its own line; the thrown error is the summary (exit 2).
    static func report(_ errors: [DocumentError]) -> CLIError {
        var stderr = StandardError()
        for error in errors.dropLast() { print(error.description, to: &stderr) }
        return CLIError.usage(errors.last?.description ?? "invalid template")
    }

    private func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CLIError.failed("\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
