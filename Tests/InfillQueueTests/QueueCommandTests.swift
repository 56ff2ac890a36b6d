import InfillProcessTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `infill queue status|retry|purge` and `infill serve`'s start-up errors with a queue, run as the
/// built binary against a throw-away server.
@Suite(.serialized, .enabled(if: PostgresCluster.available, PostgresCluster.skipReason))
struct QueueCommandTests {
    /// Runs `infill ARGS` in `directory` to the end; returns the exit status and the output.
    func infill(_ arguments: [String], in directory: String) async throws -> (status: Int32, output: String) {
        let process = try DaemonProcess(arguments, directory: directory)
        let status = await process.wait(seconds: 60)
        return (status, process.log)
    }

    @Test func statusRetryAndPurgeTalkToTheQueue() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await cluster.psql("CREATE DATABASE ops")
        let folder = cluster.root
        let url = cluster.url(database: "ops")
        let status = try await infill(["queue", "status", "--queue", url], in: folder)
        #expect(status.status == 0, "\(status.output)")
        #expect(status.output.contains("queue postgresql://postgres@127.0.0.1:\(cluster.port)/ops?sslmode=disable\nqueued 0\nrunning 0\ndone 0\nfailed 0\n"))
        // A dead letter, as a worker leaves it, is listed, queued again, and purged once exported.
        try await cluster.psql("""
            INSERT INTO infill_jobs (name, contents, size, modified_ns, sha256, pipeline, enqueued_by, state, error, exported_at)
            VALUES ('x.md', 'abc', 3, 1, 'h', 'p', 't', 'failed', 'x.md:3:1: broken', now())
            """, database: "ops")
        let listed = try await infill(["queue", "status", "--queue", url], in: folder)
        #expect(listed.output.contains("failed 1\n"))
        #expect(listed.output.contains("dead letter 1 x.md: x.md:3:1: broken"))
        let retried = try await infill(["queue", "retry", "--queue", url, "x.md"], in: folder)
        #expect(retried.output.contains("queued again: 1"), "\(retried.output)")
        #expect(try await infill(["queue", "status", "--queue", url], in: folder).output.contains("queued 1\n"))
        #expect(try await infill(["queue", "purge", "--queue", url], in: folder).output.contains("purged: 0"))
        #expect(try await infill(["queue", "purge", "--all", "--queue", url], in: folder).output.contains("purged: 1"))
    }

    @Test func serveStopsWithOneClearLineForAMissingDatabaseOrABadURL() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let folder = cluster.root + "/spool"
        try FileManager.default.createDirectory(atPath: folder + "/pipelines", withIntermediateDirectories: true)
        try Data("queue: \(cluster.url(database: "absent"))\n".utf8).write(to: URL(fileURLWithPath: folder + "/infill.yaml"))
        let missing = try await infill(["serve", "--config", "infill.yaml"], in: folder)
        #expect(missing.status == 2)
        #expect(missing.output.contains(
            "infill: error: queue postgresql://postgres@127.0.0.1:\(cluster.port)/absent?sslmode=disable: database \"absent\" does not exist (SQLSTATE 3D000) (hint: create the database first: createdb -O postgres absent)"),
            "\(missing.output)")
        try Data("workers: 1\nqueue: postgresql://127.0.0.1/x\n".utf8).write(to: URL(fileURLWithPath: folder + "/infill.yaml"))
        let bad = try await infill(["serve", "--config", "infill.yaml"], in: folder)
        #expect(bad.status == 2)
        #expect(bad.output.contains("infill.yaml:2:8: 'queue' is not a usable PostgreSQL URL: it names no user"), "\(bad.output)")
    }

    @Test func sighupReloadsThePipelinesAndSigtermStopsCleanly() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await cluster.psql("CREATE DATABASE hup")
        let folder = cluster.root + "/spool"
        try FileManager.default.createDirectory(atPath: folder + "/pipelines", withIntermediateDirectories: true)
        try Data("name: note\nmatch: \"*.note.md\"\nfields:\n  body:\n    tokens: 4-8\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/pipelines/note.yaml"))
        try Data("queue: \(cluster.url(database: "hup"))\nmodel: \(tinyModel)\nroles: work\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/infill.yaml"))
        let daemon = try DaemonProcess(["serve", "--config", "infill.yaml"], directory: folder)
        let deadline = Date().addingTimeInterval(60)
        while !daemon.log.contains("ready"), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(daemon.log.contains("roles=work"), "\(daemon.log)")
        daemon.signal(SIGHUP)
        while !daemon.log.contains("pipelines reloaded"), Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(daemon.process.isRunning)
        #expect(daemon.log.contains("pipelines reloaded"), "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(await daemon.wait() == 0)
        #expect(daemon.log.contains("stopped"))
    }

    @Test func theHTTPEndpointServesStatusMetricsAndHealthWithAQueue() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await cluster.psql("CREATE DATABASE web")
        let folder = cluster.root + "/spool"
        try FileManager.default.createDirectory(atPath: folder + "/pipelines", withIntermediateDirectories: true)
        try Data("name: note\nmatch: \"*.note.md\"\noutput: { name: \"{stem}.md\" }\nfields:\n  body:\n    tokens: 4-8\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/pipelines/note.yaml"))
        try Data("queue: \(cluster.url(database: "web"))\nmodel: \(tinyModel)\nworkers: 1\nsettle_ms: 50\nhttp: 127.0.0.1:0\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/infill.yaml"))
        let daemon = try DaemonProcess(["serve", "--config", "infill.yaml"], directory: folder)
        let deadline = Date().addingTimeInterval(60)
        func listening() -> String? {
            guard let range = daemon.log.range(of: "address=127.0.0.1:") else { return nil }
            let port = daemon.log[range.upperBound...].prefix { $0.isNumber }
            return port.isEmpty ? nil : "127.0.0.1:\(port)"
        }
        while listening() == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let address = try #require(listening(), "\(daemon.log)")
        try Data("# A\n\n{{body}}\n".utf8).write(to: URL(fileURLWithPath: folder + "/inbox/a.note.md"))
        while !FileManager.default.fileExists(atPath: folder + "/outbox/a.md"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(1200))  // one tick of the gauges
        let status = try httpGet(address, "/status")
        #expect(status.status == 200)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.body.utf8)) as? [String: Any])
        #expect(json["state"] as? String == "running")
        #expect(json["done"] as? Int == 1 && json["queued"] as? Int == 0)
        #expect((json["workers"] as? [Any])?.count == 1)
        let metrics = try httpGet(address, "/metrics")
        #expect(metrics.body.contains("infill_documents_total{result=\"done\"} 1"), "\(metrics.body)")
        #expect(metrics.body.contains("infill_workers 1"))
        #expect(try httpGet(address, "/healthz").status == 200)
        daemon.signal(SIGTERM)
        #expect(await daemon.wait() == 0)
    }
}
