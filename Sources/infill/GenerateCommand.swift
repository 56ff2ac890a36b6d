import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'generate' is not available yet") }
}
