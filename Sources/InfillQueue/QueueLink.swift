import InfillService
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// One connection to the queue's database, opened on first use and opened again after the server
/// went away: each loop of a daemon (watcher, every worker, exporter) has its own.
///
/// A failed statement that left the connection unusable (the server restarted, the network
/// dropped) closes it; the caller backs off and tries again, and the next call reconnects.
package actor QueueLink {
    package let address: QueueAddress
    private let logger: Logger
    private var connection: PostgresConnection?
    private static let ids = Atomic<Int>(0)

    /// A link that connects on first use.
    package init(address: QueueAddress, logger: Logger) {
        self.address = address
        self.logger = logger
    }

    /// Runs `body` on the connection (connecting first when there is none); a connection-level
    /// failure closes the connection so the next call opens a new one.
    package func run<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await current()
        do {
            return try await body(connection)
        } catch {
            if connection.isClosed || !(QueueDiagnosis.unwrap(error) is PSQLError && QueueDiagnosis.sqlState(error) != nil) {
                // Not a plain SQL error: the connection's state is unknown, start afresh.
                self.connection = nil
                try? await connection.close()
            }
            throw error
        }
    }

    /// Runs `body` in a transaction (BEGIN … COMMIT, ROLLBACK when it throws).
    package func transaction<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await run { connection in
            try await connection.withTransaction(logger: logger) { try await body($0) }
        }
    }

    /// Closes the connection (when the daemon stops).
    package func close() async {
        if let connection { try? await connection.close() }
        connection = nil
    }

    private func current() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let opened = try await PostgresConnection.connect(
            configuration: try Self.configuration(address), id: Self.ids.add(1, ordering: .relaxed).newValue,
            logger: logger)
        connection = opened
        return opened
    }

    /// The postgres-nio settings for an address.
    static func configuration(_ address: QueueAddress) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch address.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: address.host, port: address.port, username: address.user, password: address.password,
            database: address.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}
