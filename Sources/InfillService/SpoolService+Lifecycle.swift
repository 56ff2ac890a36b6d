import Logging
import ServiceLifecycle

extension SpoolService {
    /// Runs the service in a swift-service-lifecycle `ServiceGroup` until it is done (`--once`) or
    /// SIGTERM/SIGINT shut it down gracefully; returns normally in both cases (exit 0).
    public func runUntilStopped(logger: Logger) async throws {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
