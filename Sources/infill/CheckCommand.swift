import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'check' is not available yet") }
}
