import Foundation
import InfillHTTP
// Only the sample reader: this suite GETs asynchronously, with its own httpGet (HTTPGet.swift).
import func InfillProcessTestKit.sample
import InfillService
import Logging
import ServiceLifecycle
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP endpoint of an in-process daemon (``SteppingProcessor``, no model) scraped over the
/// loopback: exact counts in `/metrics`, a worker's field, step and ETA in `/status`, `/healthz`.
@Suite(.serialized) struct DaemonEndpointTests {
    /// A daemon with the endpoint on a kernel-chosen loopback port.
    struct Running {
        let service: SpoolService
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let address: String
        let folder: String

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
            try? FileManager.default.removeItem(atPath: folder)
        }

        func drop(_ name: String, _ text: String) throws {
            let staging = folder + "/inbox/.\(name).part"
            try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
            try FileManager.default.moveItem(atPath: staging, toPath: folder + "/inbox/" + name)
        }
    }

    static func start(workers: Int = 2, socket: Bool = false) async throws -> Running {
        // Short: a Unix socket's path must fit in 108 bytes.
        let folder = "/tmp/infill-http-" + UUID().uuidString.prefix(8)
        var configuration = ServiceConfiguration()
        configuration.inbox = folder + "/inbox"
        configuration.outbox = folder + "/outbox"
        configuration.failed = folder + "/failed"
        configuration.state = folder + "/state"
        configuration.workers = workers
        configuration.settleMilliseconds = 50
        configuration.retryBackoffMilliseconds = 20
        let spool = SpoolDirectory(layout: configuration.layout, keepDone: false)
        try spool.prepare()
        var logger = Logger(label: "http-test")
        logger.logLevel = .critical
        let export = PrometheusExport()
        let metrics = export.makeServiceMetrics()
        metrics.recordStart(version: "9.9.9", model: "stepping", adapter: nil, modelLoadSeconds: 0.25, startTime: 1000)
        let service = SpoolService(
            spool: spool, processor: SteppingProcessor(), options: SpoolServiceOptions(configuration: configuration),
            metrics: metrics, logger: logger)
        let endpoint = DaemonEndpoint(
            address: socket ? HTTPAddress(unixSocket: folder + "/http.sock") : HTTPAddress(host: "127.0.0.1", port: 0),
            export: export, logger: logger,
            status: { await service.status() })
        let bound = Mutex<HTTPAddress?>(nil)
        let http = endpoint.makeService { address in bound.withLock { $0 = address } }
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: http, successTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: service, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            logger: logger))
        let task = Task { try await group.run() }
        // Generous: in the full suite, other suites' blocking waits can hold the cooperative threads.
        let deadline = Date().addingTimeInterval(120)
        while bound.withLock({ $0 }) == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let address = try #require(bound.withLock { $0 })
        #expect(socket || address.port > 0)
        return Running(service: service, group: group, task: task, address: "\(address)", folder: folder)
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 120, _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    @Test func metricsCountEveryResultExactly() async throws {
        let daemon = try await Self.start()
        try daemon.drop("a.md", "3 1\n")
        try daemon.drop("b.md", "3 1\n")
        try daemon.drop("bad.md", "3 1\nFAIL\n")
        try daemon.drop("flaky.md", "3 1\nTRANSIENT\n")
        try daemon.drop("long.md", "40 5\n")
        var text = ""
        let settled = try await Self.eventually {
            text = try await httpGet(daemon.address, "/metrics").body
            return sample(text, #"infill_documents_total{result="done"}"#) == 4
                && sample(text, #"infill_documents_total{result="failed"}"#) == 1
                && sample(text, "infill_workers_busy") == 0 && sample(text, "infill_queue_depth") == 0
        }
        #expect(settled, "\(text)")
        #expect(sample(text, #"infill_documents_total{result="retried"}"#) == 1)
        #expect(sample(text, #"infill_documents_total{result="quarantined"}"#) == 0)
        // a, b, flaky (its second attempt): 3 each; long: 40; bad and flaky's first try: none.
        #expect(sample(text, "infill_forward_passes_total") == 49)
        #expect(sample(text, "infill_document_seconds_count") == 4)
        #expect(sample(text, #"infill_document_seconds_bucket{le="+Inf"}"#) == 4)
        #expect((sample(text, "infill_document_seconds_sum") ?? 0) > 0.2)  // long.md alone sleeps 0.2 s
        #expect(sample(text, "infill_workers") == 2)
        #expect(sample(text, "infill_documents_retrying") == 0)
        #expect(sample(text, "infill_model_load_seconds") == 0.25)
        #expect(sample(text, "infill_start_time_seconds") == 1000)
        #expect(sample(text, #"infill_build_info{version="9.9.9",model="stepping",adapter="none"}"#) == 1)
        #expect(text.contains("# TYPE infill_document_seconds histogram"))
        #expect(text.contains("# TYPE infill_documents_total counter"))
        let reply = try await httpGet(daemon.address, "/metrics")
        #expect(reply.status == 200)
        #expect(reply.contentType.hasPrefix("text/plain; version=0.0.4"))
        try await daemon.stop()
    }

    @Test func statusShowsWhatEachWorkerFillsWithStepAndETA() async throws {
        let daemon = try await Self.start(workers: 2)
        try daemon.drop("slow.md", "300 10\n")
        var status: [String: Any] = [:]
        var document: [String: Any] = [:]
        let seen = try await Self.eventually {
            let reply = try await httpGet(daemon.address, "/status")
            status = (try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]) ?? [:]
            let workers = status["workers"] as? [[String: Any]] ?? []
            document = workers.compactMap { $0["document"] as? [String: Any] }.first ?? [:]
            return (document["step"] as? Int ?? 0) >= 5
        }
        #expect(seen, "\(status)")
        #expect(status["state"] as? String == "running")
        let workers = status["workers"] as? [[String: Any]] ?? []
        #expect(workers.count == 2)
        #expect(workers.map { $0["worker"] as? Int } == [0, 1])
        // The idle worker's document is null, not missing.
        #expect(workers.contains { $0["document"] is NSNull })
        #expect(document["name"] as? String == "slow.md")
        #expect(document["pipeline"] as? String == "steps")
        #expect(document["attempt"] as? Int == 1)
        #expect(document["fields"] as? [String] == ["intro", "body"])
        #expect(document["fields_total"] as? Int == 2)
        #expect(document["total_steps"] as? Int == 300)
        #expect((document["forward_passes"] as? Int ?? 0) >= 5)
        #expect((document["elapsed_seconds"] as? Double ?? 0) > 0)
        // 300 steps of 10 ms: seconds left at the pace so far.
        let eta = document["eta_seconds"] as? Double ?? 0
        #expect(eta > 0.5 && eta < 60, "\(document)")
        #expect(status["done"] as? Int == 0)
        #expect(status["queued"] as? Int == 0)

        let health = try await httpGet(daemon.address, "/healthz")
        #expect(health.status == 200)
        #expect(health.body == "ok\n")
        let missing = try await httpGet(daemon.address, "/nope")
        #expect(missing.status == 404)
        try await daemon.stop()
    }

    @Test func aUnixSocketServesTheSamePagesAndAStaleOneIsReplaced() async throws {
        // A socket file left by a killed run is removed before the bind.
        let stale = "/tmp/infill-http-stale-" + UUID().uuidString.prefix(8)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        #expect(bound == 0 && FileManager.default.fileExists(atPath: stale))
        DaemonEndpoint.removeStaleSocketForTests(stale)
        #expect(!FileManager.default.fileExists(atPath: stale))

        let daemon = try await Self.start(socket: true)
        let path = daemon.folder + "/http.sock"
        try daemon.drop("a.md", "3 1\n")
        let done = try await Self.eventually {
            sample(try await unixSocketGet(path, "/metrics").body, #"infill_documents_total{result="done"}"#) == 1
        }
        #expect(done)
        let health = try await unixSocketGet(path, "/healthz")
        #expect(health.status == 200 && health.body == "ok\n")
        let status = try await unixSocketGet(path, "/status")
        #expect(status.status == 200 && status.body.contains("\"done\" : 1"), "\(status.body)")
        try await daemon.stop()
    }
}
