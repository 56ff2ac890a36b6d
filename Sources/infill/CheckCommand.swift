import ArgumentParser
import Foundation
import InfillDocuments

/// `infill check [PATH…]`: validate pipelines and templates; every error names file:line:column.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate pipelines and templates (files or folders).",
        discussion: """
            Folders are walked: *.yaml/*.yml files are pipelines, other files (README*, LICENSE*, \
            *.json aside) are templates, resolved against every pipeline found. Prints each problem \
            as 'file:line:column: message (hint: …)' and exits 2 if there is any. --with-model also \
            loads the model's tokenizer to check keywords against token limits.
            """)

    @Argument(help: "Pipeline files, templates or folders (default: ./pipelines).")
    var paths: [String] = []

    @Option(help: "Also resolve templates against the pipelines of this folder.")
    var pipelines: [String] = []

    @Flag(help: "Load the model (--model) and run the checks that need its tokenizer.")
    var withModel = false

    @OptionGroup var modelOptions: ModelOptions

    func run() async throws {
        try requireToneLexicons()
        var targets = paths
        if targets.isEmpty {
            guard FileManager.default.fileExists(atPath: "pipelines") else {
                throw CLIError.usage("nothing to check: give files or folders (no ./pipelines here)")
            }
            targets = ["pipelines"]
        }
        var filler: DocumentFiller?
        if withModel { filler = DocumentFiller(model: try modelOptions.load(), library: .empty) }
        // Templates checked on their own still resolve against ./pipelines.
        var directories = pipelines
        if directories.isEmpty, FileManager.default.fileExists(atPath: "pipelines") { directories = ["pipelines"] }
        let report = DocumentChecker.check(paths: targets, pipelineDirectories: directories, filler: filler)
        var stderr = StandardError()
        for error in report.errors { print(error.description, to: &stderr) }
        let summary = "\(report.pipelineFiles.count) pipeline(s), \(report.templateFiles.count) template(s)"
        if !report.errors.isEmpty {
            throw CLIError.usage("\(report.errors.count) problem(s) in \(summary)")
        }
        print("ok: \(summary)")
    }
}
