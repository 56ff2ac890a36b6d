import InfillService
import Logging
import ServiceLifecycle

extension SpoolService {
    /// Runs the service with the HTTP endpoint beside it, or alone when `endpoint` is nil: see
    /// ``SpoolService/runUntilStopped(logger:alongside:)``.
    package func runUntilStopped(logger: Logger, endpoint: DaemonEndpoint?) async throws {
        try await runUntilStopped(logger: logger, alongside: endpoint.map { [$0.makeService()] } ?? [])
    }
}
