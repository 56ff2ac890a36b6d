import Foundation
import InfillService
import Logging
import PostgresNIO
import Testing
@testable import InfillQueue
#if canImport(Glibc)
import Glibc
#endif

/// Three `infill serve` processes on one queue and the tiny fixture model: a burst of documents,
/// one daemon killed with SIGKILL while it holds a job, the server restarted once; every valid
/// document must land in the outbox exactly once, byte for byte what a single local daemon writes,
/// and the malformed ones in failed/ with their reasons.
@Suite(.serialized, .enabled(if: PostgresCluster.available, PostgresCluster.skipReason))
struct MultiDaemonTests {
    static let valid = 60
    static let malformed = 6

    /// A folder with the pipeline and the burst of templates, ready to be dropped.
    static func makeFolder(_ root: String) throws {
        for folder in ["inbox", "pipelines", "burst"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        try Data("""
            name: note
            match: "*.note.md"
            output: { name: "{stem}.md", report: true }
            sampling: { steps: 24, seed: 3 }
            fields:
              body:
                tokens: 12-40

            """.utf8).write(to: URL(fileURLWithPath: root + "/pipelines/note.yaml"))
        for index in 0..<(valid + malformed) {
            let text = index < valid ? "# Note \(index)\n\n{{body}}\n\nEnd of note \(index).\n" : "# Bad \(index)\n\n{{body | words: lots}}\n"
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/burst/n\(index).note.md"))
        }
    }

    /// Moves the burst into the inbox, one rename each.
    static func dropBurst(_ root: String) {
        for index in 0..<(valid + malformed) { rename(root + "/burst/n\(index).note.md", root + "/inbox/n\(index).note.md") }
    }

    static func names(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func contents(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    @Test func threeDaemonsAKillAndAServerRestartGiveEveryDocumentExactlyOnce() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/infill-fleet-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: root) }
        // The reference: one local daemon, no queue.
        let reference = root + "/reference"
        try Self.makeFolder(reference)
        Self.dropBurst(reference)
        let single = try DaemonProcess([
            "serve", "--once", "--inbox", "inbox", "--outbox", "outbox", "--failed", "failed", "--state", ".infill",
            "--pipelines", "pipelines", "--model", tinyModel, "--workers", "1", "--settle-ms", "0", "--log-level", "warning",
        ], directory: reference)
        #expect(await single.wait(seconds: 300) == 1, "\(single.log)")
        // What one daemon makes of the burst is the reference (should the sampler ever fail a
        // valid template on the tiny model, the fleet must fail the same one the same way).
        let expected = Self.names(reference + "/outbox").filter { !$0.hasSuffix(".report.json") }
        let expectedFailed = Self.names(reference + "/failed")
        #expect(expected.count >= Self.valid - 2, "the single daemon filled only \(expected.count): \(single.log)")

        // The fleet: A watches, works and exports; B works and exports; C only works.
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        try await cluster.psql("CREATE DATABASE fleet")
        let fleet = root + "/fleet"
        try Self.makeFolder(fleet)
        try Data("""
            inbox: inbox
            outbox: outbox
            failed: failed
            pipelines: pipelines
            model: \(tinyModel)
            workers: 1
            settle_ms: 100
            retry_backoff_ms: 50
            queue: \(cluster.url(database: "fleet"))
            queue_lease_s: 2
            log_level: info

            """.utf8).write(to: URL(fileURLWithPath: fleet + "/infill.yaml"))
        func daemon(_ state: String, _ roles: String) throws -> DaemonProcess {
            try DaemonProcess(["serve", "--config", "infill.yaml", "--state", state, "--roles", roles], directory: fleet)
        }
        let a = try daemon(".infill-a", "watch,work,export")
        let b = try daemon(".infill-b", "work,export")
        let c = try daemon(".infill-c", "work")
        Self.dropBurst(fleet)
        let logger = Logger(label: "fleet-test")
        let link = QueueLink(address: cluster.address(database: "fleet"), logger: logger)
        defer { Task { await link.close() } }

        // Kill C (SIGKILL) while it holds a lease.
        let cOwner = "%:\(c.pid)"
        let cHolding = await eventually(120) {
            let held = try? await link.run { connection in
                var count: Int64 = 0
                for try await n in try await connection.query(
                    "SELECT count(*) FROM infill_jobs WHERE state = 'running' AND lease_owner LIKE \(cOwner)", logger: logger
                ).decode(Int64.self) { count = n }
                return count
            }
            return (held ?? 0) > 0
        }
        #expect(cHolding, "daemon C never claimed a job: \(c.log)")
        c.signal(SIGKILL)
        #expect(await c.wait() == -9 || !c.process.isRunning)

        // Restart the server once, mid-run.
        #expect(await eventually(120) { Self.names(fleet + "/outbox").count >= 20 })
        try await cluster.stopServer()
        try await Task.sleep(for: .milliseconds(800))
        try await cluster.start()

        let outbox = fleet + "/outbox", failed = fleet + "/failed"
        let settled = await eventually(240) {
            Self.names(outbox).count == 2 * expected.count && Self.names(failed).count == expectedFailed.count
        }
        // Let a late duplicate show up, if there were one.
        try await Task.sleep(for: .milliseconds(1500))
        a.signal(SIGTERM)
        b.signal(SIGTERM)
        let (aStatus, bStatus) = (await a.wait(), await b.wait())
        #expect(settled, "outbox \(Self.names(outbox).count), failed \(Self.names(failed).count)\nA: \(a.log.suffix(3000))\nB: \(b.log.suffix(3000))")
        #expect(aStatus == 0 && bStatus == 0, "A exited \(aStatus), B \(bStatus)\nA: \(a.log.suffix(2500))\nB: \(b.log.suffix(1500))")

        // Exactly once, byte for byte the single daemon's documents.
        let documents = Self.names(outbox).filter { !$0.hasSuffix(".report.json") }
        #expect(documents == expected)
        #expect(Self.names(outbox).filter { $0.hasSuffix(".report.json") } == expected.map { $0 + ".report.json" })
        for name in expected {
            #expect(Self.contents(outbox + "/" + name) == Self.contents(reference + "/outbox/" + name), "\(name) differs")
        }
        // Malformed ones in failed/ with their reasons, as the local spool puts them.
        #expect(Self.names(failed) == expectedFailed)
        for index in Self.valid..<(Self.valid + Self.malformed) {
            let reason = try #require(Self.contents(failed + "/n\(index).note.md.error.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: reason) as? [String: Any])
            #expect(json["line"] as? Int == 3)
            #expect((json["error"] as? String)?.contains("words") == true)
            #expect(Self.contents(failed + "/n\(index).note.md") == Self.contents(reference + "/failed/n\(index).note.md"))
        }
        #expect(Self.names(fleet + "/inbox").isEmpty)

        // The queue agrees: every job finished and exported once; C's job was taken over.
        let report = try await QueueAdmin.status(cluster.address(database: "fleet"), logger: logger)
        #expect(report.done == expected.count && report.failed == expectedFailed.count / 2)
        #expect(report.queued == 0 && report.running == 0 && report.doneUnexported == 0 && report.failedUnexported == 0)
        let takenOver = try await link.run { connection in
            var count: Int64 = 0
            for try await n in try await connection.query(
                "SELECT count(*) FROM infill_jobs WHERE lost > 0", logger: logger
            ).decode(Int64.self) { count = n }
            return count
        }
        #expect(takenOver >= 1)
        #expect(a.log.contains("reachable again") || b.log.contains("reachable again") || a.log.contains("retrying with backoff")
                || b.log.contains("retrying with backoff"), "no daemon noticed the restart")
    }

    /// Polls an async condition every 100 ms for up to `seconds`.
    func eventually(_ seconds: Double, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return await condition()
    }
}
