import ArgumentParser

/// `infill model …`: fetch, inspect and probe models.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Fetch, inspect and probe models.",
        subcommands: [ModelFetchCommand.self, ModelInfoCommand.self, ModelForwardCommand.self, ModelExportCommand.self]
    )
}
