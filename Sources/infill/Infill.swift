import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `infill` command: fill templated documents with a masked-diffusion language model.
@main
struct Infill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infill",
        abstract: "Fill templated documents with a masked-diffusion language model.",
        version: "0.12.0",
        subcommands: [
            ServeCommand.self, FillCommand.self, CheckCommand.self, GenerateCommand.self,
            ModelCommand.self, BenchCommand.self, QueueCommand.self,
        ]
    )

    /// Runs the command line; errors become one line on stderr and the exit codes of the contract
    /// (0 ok, 1 some document failed, 2 usage or configuration error).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            printError(error.message)
            Glibc.exit(error.exitCode)
        } catch {
            // Help, version and usage errors keep ArgumentParser's own rendering; usage errors exit 2.
            if exitCode(for: error) == .success || error is CleanExit {
                exit(withError: error)
            }
            // Usage errors (ArgumentParser would exit 64) and anything unexpected: one line, exit 2.
            let message = message(for: error)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }.joined(separator: " ")
            printError(message.isEmpty ? "\(error)" : message)
            if exitCode(for: error) == .validationFailure {
                printError("see 'infill help' for usage")
            }
            Glibc.exit(2)
        }
    }
}

/// An error the command line reports as one line, with the exit code of the contract.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32

    /// A usage or configuration error (exit 2).
    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 2) }
    /// A document failed (exit 1).
    static func failed(_ message: String) -> CLIError { CLIError(message: message, exitCode: 1) }

    var description: String { message }
}

/// Writes `infill: error: MESSAGE` to stderr.
func printError(_ message: String) {
    var stderr = StandardError()
    print("infill: error: \(message)", to: &stderr)
}

/// A `TextOutputStream` over the process's stderr.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var bytes = Array(string.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
