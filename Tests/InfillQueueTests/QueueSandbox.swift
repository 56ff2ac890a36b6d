import Foundation
import InfillQueue
import InfillService
import InfillServiceTestKit
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A spool in a temporary folder next to its own database on a ``PostgresCluster``, and
/// in-process ``QueueService`` daemons on them.
final class QueueSandbox: @unchecked Sendable {
    let root: String
    let cluster: PostgresCluster
    let database: String

    init(cluster: PostgresCluster) async throws {
        self.cluster = cluster
        root = FileManager.default.temporaryDirectory.path + "/infill-queue-tests-" + UUID().uuidString
        for folder in ["inbox", "outbox", "failed"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        database = "t" + UUID().uuidString.prefix(8).lowercased()
        try await cluster.psql("CREATE DATABASE \(database)")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var address: QueueAddress { cluster.address(database: database) }

    /// The spool of daemon `index` (its own state folder, the shared inbox, outbox and failed/).
    func layout(_ index: Int = 0) -> SpoolLayout {
        SpoolLayout(inbox: root + "/inbox", outbox: root + "/outbox", failed: root + "/failed", state: root + "/state\(index)")
    }

    /// A daemon's settings: fast settle, polling and retries for tests.
    func configuration(roles: Set<DaemonRole> = Set(DaemonRole.allCases), workers: Int = 2, lease: Double = 30) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.roles = roles
        configuration.workers = workers
        configuration.settleMilliseconds = 50
        configuration.retryBackoffMilliseconds = 50
        configuration.maxAttempts = 3
        configuration.queueLeaseSeconds = lease
        configuration.stopTimeoutSeconds = 5
        return configuration
    }

    /// Starts an in-process daemon; stop it with ``Running/stop()``.
    func start(
        _ index: Int = 0, configuration: ServiceConfiguration? = nil, processor: (any DocumentProcessor)? = EchoProcessor(reportKey: "name"),
        once: Bool = false
    ) throws -> Running {
        let configuration = configuration ?? self.configuration()
        let spool = SpoolDirectory(layout: layout(index))
        try spool.prepare()
        var options = QueueOptions(configuration: configuration, address: address, once: once)
        options.pollMilliseconds = 50
        options.owner = "test-\(index)"
        var logger = Logger(label: "queue-test-\(index)")
        logger.logLevel = .warning
        let service = QueueService(options: options, spool: spool, processor: processor, logger: logger)
        return Running(service: service)
    }

    /// Writes a dotfile, then renames it into the inbox, as writers should.
    func drop(_ name: String, _ text: String) throws {
        let staging = root + "/inbox/.drop-" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
        guard rename(staging, root + "/inbox/" + name) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: root + "/" + relative).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Visible names in a folder of the sandbox.
    func names(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + relative)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Documents in the outbox (reports excluded).
    var outputs: [String] { names("outbox").filter { !$0.hasSuffix(".report.json") } }

    /// Polls `condition` every 25 ms for up to `seconds` (generous: in the whole suite, blocking
    /// tests of other targets can hold the cooperative threads these daemons run on for a while).
    func eventually(_ seconds: Double = 120, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return condition()
    }

    /// ``eventually(_:_:)`` for a condition that awaits (a query).
    func eventuallyAsync(_ seconds: Double = 120, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }
}

/// An in-process daemon running in a task.
final class Running: Sendable {
    let service: QueueService
    let task: Task<Void, any Error>

    init(service: QueueService) {
        self.service = service
        task = Task { try await service.run() }
    }

    /// Graceful stop (as SIGTERM), then waits for the run to return.
    func stop() async throws {
        service.shutdown()
        try await task.value
    }
}
