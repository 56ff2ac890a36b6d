import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct FillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fill", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'fill' is not available yet") }
}
