import Foundation
import InfillHTTP
import InfillQueue
import InfillService
import Logging
import ServiceLifecycle

extension ServeCommand {
    /// `infill serve` with `queue:` set: this daemon's roles against the shared PostgreSQL queue.
    /// Only a daemon with the `work` role loads the model.
    func serveQueue(_ address: QueueAddress, settings: ServiceConfiguration, logger: Logger) async throws {
        let spool = SpoolDirectory(layout: settings.layout, keepDone: settings.keepDone)
        do {
            try spool.prepare()
        } catch {
            throw CLIError.usage(error.description)
        }
        do {
            try await QueueService.prepare(address, logger: logger)
        } catch {
            throw CLIError.usage(error.description)
        }
        var processor: PipelineDocumentProcessor?
        var modelName: (name: String, adapter: String?)?
        if settings.roles.contains(.work) {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: settings.pipelines, isDirectory: &isFolder), isFolder.boolValue else {
                throw CLIError.usage("\(settings.pipelines): the pipelines folder does not exist (set 'pipelines:' in the config or --pipelines)")
            }
            try requireToneLexicons()
            let loaded = try ModelOptions.load(settings.model, threads: settings.threadsPerWorker).loaded
            do {
                processor = try PipelineDocumentProcessor(model: loaded, pipelinesDirectory: settings.pipelines)
            } catch {
                throw CLIError.usage(error.description)
            }
            for problem in processor?.startupErrors ?? [] {
                logger.error("pipeline not loaded", metadata: ["error": "\(problem)"])
            }
            logger.info("model loaded", metadata: ["model": "\(loaded.name)", "adapter": "\(loaded.adapter ?? "none")"])
            modelName = (loaded.name, loaded.adapter)
        }
        let export = settings.http.map { _ in PrometheusExport() }
        let metrics = export?.makeServiceMetrics() ?? .disabled
        metrics.recordStart(
            version: Infill.configuration.version, model: modelName?.name ?? "none", adapter: modelName?.adapter,
            modelLoadSeconds: 0, startTime: Date().timeIntervalSince1970)
        let service = QueueService(
            options: QueueOptions(configuration: settings, address: address, once: once), spool: spool,
            processor: processor, notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment),
            metrics: metrics, logger: logger)
        // The endpoint starts first and stops after the daemon drained (a group stops in reverse).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let address = settings.http, let export {
            let endpoint = DaemonEndpoint(address: address, export: export, logger: logger, status: { await service.status() })
            services.append(.init(
                service: endpoint.makeService(), successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        services.append(.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as ConfigurationError {
            throw CLIError.usage(error.description)
        } catch {
            guard let address = settings.http else { throw error }
            throw CLIError.usage("the HTTP endpoint on \(address) failed: \(error) (set 'http:' in the config or --http to a free port, or 'off')")
        }
        if once {
            let summary = service.summary
            let failed = summary.exportedFailed + summary.failed
            if failed > 0 {
                throw CLIError.failed("\(failed) of \(summary.exportedDone + failed) documents failed; see \(settings.failed)")
            }
        }
    }
}
