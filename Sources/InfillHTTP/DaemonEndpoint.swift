import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import InfillService
import Logging
import ServiceLifecycle

/// The daemon's HTTP endpoint, on Hummingbird: `/metrics` (Prometheus text), `/status` (JSON:
/// what each worker fills, its field, step and ETA) and `/healthz`.
///
/// ``makeService()`` returns a swift-service-lifecycle `Service` to run in the daemon's
/// `ServiceGroup` (``SpoolService/runUntilStopped(logger:alongside:)``).
package struct DaemonEndpoint: Sendable {
    /// `text/plain; version=0.0.4`: what Prometheus expects from a text exporter.
    package static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    package let address: HTTPAddress
    package let export: PrometheusExport
    /// The service's status now (``SpoolService/status()``).
    package let status: @Sendable () async -> ServiceStatus
    private let logger: Logger

    package init(address: HTTPAddress, export: PrometheusExport, logger: Logger,
                status: @escaping @Sendable () async -> ServiceStatus) {
        self.address = address
        self.export = export
        self.logger = logger
        self.status = status
    }

    /// The routes, for the application or a test.
    package func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        let export = self.export, status = self.status
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: Self.metricsContentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: export.exposition())))
        }
        router.get("status") { _, _ -> Response in
            let bytes = try Self.json(await status())
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("healthz") { _, _ -> Response in
            let state = await status().state
            let healthy = state == "running"
            return Response(
                status: healthy ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: healthy ? "ok\n" : "\(state)\n")))
        }
        return router
    }

    /// The HTTP server as a `Service`; it logs `http endpoint listening address=HOST:PORT` (with
    /// the kernel's port when 0 was asked for) once bound, and tells `onListening`.
    package func makeService(onListening: @escaping @Sendable (HTTPAddress) -> Void = { _ in }) -> some Service {
        let logger = self.logger, address = self.address
        let bind: BindAddress
        if let path = address.unixSocket {
            Self.removeStaleSocket(path)
            bind = .unixDomainSocket(path: path)
        } else {
            bind = .hostname(address.host, port: address.port)
        }
        return Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(address: bind, serverName: nil),
            onServerRunning: { channel in
                var bound = address
                if address.unixSocket == nil { bound.port = channel.localAddress?.port ?? address.port }
                var metadata: Logger.Metadata = ["address": "\(bound)", "paths": "/metrics,/status,/healthz"]
                if !address.isLoopback { metadata["warning"] = "not a loopback address: reachable from other machines" }
                logger.info("http endpoint listening", metadata: metadata)
                onListening(bound)
            },
            logger: logger)
    }

    /// Removes a socket left by an earlier run (a killed daemon cannot unlink it); anything that
    /// is not a socket stays, and the bind then fails with a clear error.
    static func removeStaleSocket(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        unlink(path)
    }

    /// The status as JSON with snake_case keys, sorted for stable output.
    static func json(_ status: ServiceStatus) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try encoder.encode(status)) + [0x0A]
    }
}

extension DaemonEndpoint {
    /// ``removeStaleSocket(_:)``, for tests.
    package static func removeStaleSocketForTests(_ path: String) { removeStaleSocket(path) }
}
