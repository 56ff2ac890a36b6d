import Logging
import ServiceLifecycle

extension SpoolService {
    /// Runs the service in a swift-service-lifecycle `ServiceGroup` until it is done (`--once`) or
    /// SIGTERM/SIGINT shut it down gracefully; returns normally in both cases (exit 0).
    ///
    /// - Parameter alongside: services that live as long as the spool (the HTTP endpoint). They
    ///   start first and are shut down after the spool has drained (a group shuts down in reverse
    ///   order), so `/status` shows the drain; one that fails shuts the group down and its error
    ///   is thrown.
    public func runUntilStopped(logger: Logger, alongside: [any Service] = []) async throws {
        let companions = alongside.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: companions + [.init(service: self, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}
