import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct ModelFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'model fetch' is not available yet") }
}
