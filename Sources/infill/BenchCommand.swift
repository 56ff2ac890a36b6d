import ArgumentParser

// Placeholder while the layer is being built; replaced by its owner.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(in development)")
    func run() async throws { throw CLIError.usage("'bench' is not available yet") }
}
