import ArgumentParser
import Foundation
import InfillQueue
import InfillService
import Logging

/// `infill queue status|retry|purge`: the operators' view of the shared PostgreSQL queue.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Inspect and manage the shared PostgreSQL queue ('queue:' in infill.yaml).",
        subcommands: [QueueStatusCommand.self, QueueRetryCommand.self, QueuePurgeCommand.self]
    )
}

/// Where the queue is: `--queue URL`, else `queue:` in the config file.
struct QueueLocation: ParsableArguments {
    @Option(help: "The config file (default: ./infill.yaml when it exists).") var config: String?
    @Option(help: "The queue's postgresql:// URL (overrides 'queue:' in the config).") var queue: String?

    /// The queue named by the flags or the config file, or a usage error saying what is missing.
    func address() throws -> QueueAddress {
        if let queue {
            do {
                return try QueueAddress(parsing: queue)
            } catch {
                throw CLIError.usage("--queue is not a usable PostgreSQL URL: \(error) (postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")
            }
        }
        let file = config ?? (FileManager.default.fileExists(atPath: "infill.yaml") ? "infill.yaml" : nil)
        guard let file else { throw CLIError.usage("no queue given: set 'queue:' in infill.yaml, or pass --config or --queue") }
        let settings: ServiceConfiguration
        do {
            settings = try ConfigurationLoader.load(file: file)
        } catch {
            throw CLIError.usage(error.description)
        }
        guard let address = settings.queue else { throw CLIError.usage("\(file) sets no 'queue:' (the daemon uses its local spool)") }
        return address
    }

    /// A logger that only says what went wrong.
    static var logger: Logger {
        var logger = Logger(label: "infill.queue")
        logger.logLevel = .error
        return logger
    }
}

/// `infill queue status`: jobs by state, leases by daemon, the newest dead letters.
struct QueueStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Jobs by state, leases held, dead letters.")
    @OptionGroup var location: QueueLocation

    func run() async throws {
        let address = try location.address()
        do {
            let report = try await QueueAdmin.status(address, logger: QueueLocation.logger)
            print("queue \(address)")
            for line in report.lines { print(line) }
        } catch {
            throw CLIError.usage(error.description)
        }
    }
}

/// `infill queue retry [NAME|ID …]`: dead letters back into the queue with fresh attempts.
struct QueueRetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Queue dead letters again (all, or those named by document name or job id).",
        discussion: "Their earlier copies in the failed folder stay; remove them by hand.")
    @OptionGroup var location: QueueLocation
    @Argument(help: "Document names or job ids (default: every dead letter).") var jobs: [String] = []

    func run() async throws {
        let address = try location.address()
        do {
            let count = try await QueueAdmin.retry(address, selection: jobs, logger: QueueLocation.logger)
            print("queued again: \(count)")
        } catch {
            throw CLIError.usage(error.description)
        }
    }
}

/// `infill queue purge [--all]`: deletes exported jobs (or every job).
struct QueuePurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge", abstract: "Delete exported jobs (their results are in the outbox and failed folder).")
    @OptionGroup var location: QueueLocation
    @Flag(help: "Delete every job, also those queued, running or not exported yet.") var all = false

    func run() async throws {
        let address = try location.address()
        do {
            let count = try await QueueAdmin.purge(address, everything: all, logger: QueueLocation.logger)
            print("purged: \(count)")
        } catch {
            throw CLIError.usage(error.description)
        }
    }
}
