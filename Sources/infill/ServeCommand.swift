import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'serve' is not available yet") }
}
