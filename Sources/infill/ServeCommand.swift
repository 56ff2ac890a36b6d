import ArgumentParser
import Foundation
import InfillHTTP
import InfillModel
import InfillService
import Logging

/// `infill serve`: the daemon (inbox → outbox until SIGTERM), or `--once` as a batch command.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Watch the inbox, fill documents, write the outbox (until SIGTERM; --once: one batch).",
        discussion: """
            Settings come from the config file (infill.yaml; every key optional) and the flags below, \
            which override it. SIGTERM/SIGINT drain and exit 0, SIGHUP reloads the pipelines. \
            Exit codes: 0 ok, 1 some document failed (--once), 2 usage or configuration error.
            """
    )

    @Option(help: "The config file (default: ./infill.yaml when it exists).")
    var config: String?

    @Flag(help: "Process what is in the inbox now, then exit (1 if any document failed).")
    var once = false

    @Option(help: "Folder users drop templates into.") var inbox: String?
    @Option(help: "Folder for finished documents and reports.") var outbox: String?
    @Option(help: "Folder for documents that could not be processed.") var failed: String?
    @Option(help: "The daemon's state folder (same filesystem as the inbox).") var state: String?
    @Option(help: "Folder of *.yaml pipeline specs.") var pipelines: String?
    @Option(help: "Documents processed at once.") var workers: Int?
    @Option(help: "BLAS threads per worker.") var threadsPerWorker: Int?
    @Option(help: "The model: 'default', a GGUF file or an HF model folder.") var model: String?
    @Option(help: "Milliseconds a file must stay unchanged before it is claimed.") var settleMs: Int?
    @Option(help: "inotify or poll.") var watch: String?
    @Option(help: "Seconds SIGTERM waits for in-flight documents before putting them back.") var stopTimeout: Double?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(help: "Serve /metrics, /status and /healthz on HOST:PORT (a bare port: loopback), unix:PATH, or 'off'.") var http: String?
    @Option(help: "With a shared queue: what this daemon does, any of watch,work,export (default: all).") var roles: String?

    func run() async throws {
        let settings = try resolveConfiguration()
        let level = Logger.Level(rawValue: settings.logLevel) ?? .info
        let timestamps = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] == nil
        LoggingSystem.bootstrap { label in ServiceLogHandler(label: label, level: level, timestamps: timestamps) }
        let logger = Logger(label: "infill")
        if let queue = settings.queue {
            try await serveQueue(queue, settings: settings, logger: logger)
            return
        }
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        notifier.status("loading pipelines and model")

        let spool = SpoolDirectory(layout: settings.layout, keepDone: settings.keepDone)
        do {
            try spool.prepare()
        } catch {
            throw CLIError.usage(error.description)
        }
        // Fail on a missing pipelines folder before the (slow) model load.
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: settings.pipelines, isDirectory: &isFolder), isFolder.boolValue else {
            throw CLIError.usage("\(settings.pipelines): the pipelines folder does not exist (set 'pipelines:' in the config or --pipelines)")
        }
        let loadClock = ContinuousClock()
        let loadStarted = loadClock.now
        try requireToneLexicons()
        let loaded = try ModelOptions.load(settings.model, threads: settings.threadsPerWorker).loaded
        let loadTime = loadClock.now - loadStarted
        let loadSeconds = loadTime.inSeconds
        let processor: PipelineDocumentProcessor
        do {
            processor = try PipelineDocumentProcessor(
                model: loaded, pipelinesDirectory: settings.pipelines,
                overlapsParent: settings.workers == 1 && settings.threadsPerWorker >= 2)
        } catch {
            throw CLIError.usage(error.description)
        }
        for problem in processor.startupErrors {
            logger.error("pipeline not loaded", metadata: ["error": "\(problem)"])
        }
        logger.info("model loaded", metadata: [
            "model": "\(loaded.name)", "adapter": "\(loaded.adapter ?? "none")",
            "pipelines": "\(processor.pipelineNames.joined(separator: ","))",
        ])

        let export = settings.http.map { _ in PrometheusExport() }
        let metrics = export?.makeServiceMetrics() ?? .disabled
        metrics.recordStart(
            version: Infill.configuration.version, model: loaded.name, adapter: loaded.adapter,
            modelLoadSeconds: loadSeconds, startTime: Date().timeIntervalSince1970)
        let service = SpoolService(
            spool: spool, processor: processor, options: SpoolServiceOptions(configuration: settings, once: once),
            notifier: notifier, metrics: metrics, logger: logger)
        var endpoint: DaemonEndpoint?
        if let address = settings.http, let export {
            endpoint = DaemonEndpoint(address: address, export: export, logger: logger, status: { await service.status() })
        }
        do {
            try await service.runUntilStopped(logger: logger, endpoint: endpoint)
        } catch let error as SpoolError {
            throw CLIError.usage(error.description)
        } catch {
            guard let address = settings.http else { throw error }
            throw CLIError.usage("the HTTP endpoint on \(address) failed: \(error) (set 'http:' in the config or --http to a free port, or 'off')")
        }
        if once {
            let summary = await service.summary
            if summary.failed > 0 {
                throw CLIError.failed("\(summary.failed) of \(summary.done + summary.failed) documents failed; see \(settings.failed)")
            }
        }
    }

    /// The config file's settings with the flags applied on top.
    func resolveConfiguration() throws -> ServiceConfiguration {
        var settings = ServiceConfiguration()
        let file = config ?? (FileManager.default.fileExists(atPath: "infill.yaml") ? "infill.yaml" : nil)
        if let file {
            do {
                settings = try ConfigurationLoader.load(file: file)
            } catch {
                throw CLIError.usage(error.description)
            }
        }
        if let inbox { settings.inbox = inbox }
        if let outbox { settings.outbox = outbox }
        if let failed { settings.failed = failed }
        if let state { settings.state = state }
        if let pipelines { settings.pipelines = pipelines }
        if let model { settings.model = model }
        if let workers {
            guard (1...256).contains(workers) else { throw CLIError.usage("--workers must be between 1 and 256") }
            settings.workers = workers
        }
        if let threadsPerWorker {
            guard (1...256).contains(threadsPerWorker) else { throw CLIError.usage("--threads-per-worker must be between 1 and 256") }
            settings.threadsPerWorker = threadsPerWorker
        }
        if let settleMs {
            guard settleMs >= 0 else { throw CLIError.usage("--settle-ms must not be negative") }
            settings.settleMilliseconds = settleMs
        }
        if let watch {
            guard let mode = ServiceConfiguration.WatchMode(rawValue: watch) else {
                throw CLIError.usage("--watch must be inotify or poll, not '\(watch)'")
            }
            settings.watch = mode
        }
        if let stopTimeout {
            guard stopTimeout >= 0, stopTimeout.isFinite else { throw CLIError.usage("--stop-timeout must not be negative") }
            settings.stopTimeoutSeconds = stopTimeout
        }
        if let http {
            if ["off", "false", "no", ""].contains(http.lowercased()) {
                settings.http = nil
            } else {
                guard let address = HTTPAddress(parsing: http) else {
                    throw CLIError.usage("--http must be HOST:PORT (such as 127.0.0.1:9464), [IPV6]:PORT, a port, unix:PATH or 'off', not '\(http)'")
                }
                settings.http = address
            }
        }
        if let roles {
            switch DaemonRole.parseList(roles) {
            case .success(let parsed): settings.roles = parsed
            case .failure(let unknown): throw CLIError.usage("--roles lists watch, work and export, not '\(unknown.word)'")
            }
        }
        if let logLevel {
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw CLIError.usage("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = logLevel
        }
        return settings
    }
}
