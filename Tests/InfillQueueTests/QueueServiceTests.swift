import Foundation
@testable import InfillService
import Logging
import PostgresNIO
import Testing
@testable import InfillQueue

/// The queue's daemons in-process against a real PostgreSQL server: enqueue, claim, lease,
/// retry, dead-letter, export, restart of the server, and the errors of a bad address.
@Suite(.serialized, .enabled(if: PostgresCluster.available, PostgresCluster.skipReason))
struct QueueServiceTests {
    @Test func documentsGoThroughTheQueueExactlyOnceAndMalformedOnesFail() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let daemons = try [sandbox.start(0), sandbox.start(1, configuration: sandbox.configuration(roles: [.work, .export]))]
        for index in 0..<20 {
            try sandbox.drop("d\(index).txt", index % 7 == 3 ? "line one\nFAIL\n" : "note \(index)\n")
        }
        let settled = await sandbox.eventually { sandbox.outputs.count == 17 && sandbox.names("failed").count == 6 }
        for daemon in daemons { try await daemon.stop() }
        #expect(settled, "outbox: \(sandbox.names("outbox")), failed: \(sandbox.names("failed"))")
        #expect(sandbox.outputs == (0..<20).filter { $0 % 7 != 3 }.map { "d\($0).out" }.sorted())
        #expect(sandbox.read("outbox/d5.out") == "NOTE 5\n")
        #expect(sandbox.read("outbox/d5.out.report.json") == "{\"name\":\"d5.txt\"}\n")
        let reason = try #require(sandbox.read("failed/d3.txt.error.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(reason.utf8)) as? [String: Any])
        #expect(json["line"] as? Int == 2)
        #expect(json["error"] as? String == "this document asks to fail")
        #expect(json["document"] as? String == "d3.txt")
        #expect(sandbox.read("failed/d3.txt") == "line one\nFAIL\n")
        #expect(sandbox.names("inbox").isEmpty)
        let report = try await QueueAdmin.status(sandbox.address, logger: Logger(label: "t"))
        #expect(report.done == 17 && report.failed == 3 && report.queued == 0 && report.running == 0)
        #expect(report.doneUnexported == 0 && report.failedUnexported == 0)
        #expect(report.deadLetters.count == 3)
        let counts = daemons.map { $0.service.summary }
        #expect(counts.map(\.processed).reduce(0, +) == 20)
        #expect(counts.map(\.exportedDone).reduce(0, +) == 17)
    }

    @Test func transientFailuresAreRetriedThenDeadLettered() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let daemon = try sandbox.start()
        try sandbox.drop("twice.txt", "TRANSIENT 2\nhello\n")
        try sandbox.drop("always.txt", "TRANSIENT 99\n")
        let settled = await sandbox.eventually { sandbox.outputs == ["twice.out"] && sandbox.names("failed").count == 2 }
        try await daemon.stop()
        #expect(settled, "\(sandbox.names("outbox")) \(sandbox.names("failed"))")
        #expect(sandbox.read("outbox/twice.out") == "TRANSIENT 2\nHELLO\n")
        let reason = try #require(sandbox.read("failed/always.txt.error.json"))
        #expect(reason.contains("temporarily unavailable (gave up after 3 attempts)"))
        #expect(reason.contains("\"attempts\" : 3"))
        // Retried from the command side: the dead letter runs again and fails again.
        #expect(try await QueueAdmin.retry(sandbox.address, selection: ["always.txt"], logger: Logger(label: "t")) == 1)
        #expect(try await QueueAdmin.status(sandbox.address, logger: Logger(label: "t")).queued == 1)
        #expect(try await QueueAdmin.purge(sandbox.address, everything: false, logger: Logger(label: "t")) == 1)
        #expect(try await QueueAdmin.purge(sandbox.address, everything: true, logger: Logger(label: "t")) == 1)
    }

    @Test func aWatcherOnlyDaemonAndAWorkerOnlyDaemonShareTheWork() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let watcher = try sandbox.start(0, configuration: sandbox.configuration(roles: [.watch]), processor: nil)
        for index in 0..<5 { try sandbox.drop("w\(index).txt", "w \(index)\n") }
        #expect(await sandbox.eventually { sandbox.names("inbox").isEmpty })
        #expect(sandbox.outputs.isEmpty)
        let report = try await QueueAdmin.status(sandbox.address, logger: Logger(label: "t"))
        #expect(report.queued == 5)
        let worker = try sandbox.start(1, configuration: sandbox.configuration(roles: [.work]))
        #expect(await sandbox.eventuallyAsync {
            (try? await QueueAdmin.status(sandbox.address, logger: Logger(label: "t")).doneUnexported) == 5
        })
        #expect(sandbox.outputs.isEmpty)
        let exporter = try sandbox.start(2, configuration: sandbox.configuration(roles: [.export]), processor: nil)
        #expect(await sandbox.eventually { sandbox.outputs.count == 5 })
        for daemon in [watcher, worker, exporter] { try await daemon.stop() }
    }

    @Test func anExpiredLeaseMakesTheJobClaimableAndTheOldHolderStoresNothing() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let logger = Logger(label: "t")
        let link = QueueLink(address: sandbox.address, logger: logger)
        try await QueueService.prepare(sandbox.address, logger: logger)
        let stamp = FileStamp(size: 3, modified: 1, isRegularFile: true)
        #expect(try await link.run { try await JobStore.enqueue($0, name: "a.txt", contents: Array("abc".utf8), stamp: stamp, pipeline: "p", by: "t", logger: logger) })
        // The same file version again (a watcher killed before it removed the file): no second job.
        #expect(try await !link.run { try await JobStore.enqueue($0, name: "a.txt", contents: Array("abc".utf8), stamp: stamp, pipeline: "p", by: "t", logger: logger) })
        #expect(try await link.run { try await JobStore.enqueue($0, name: "b.txt", contents: Array("b".utf8), stamp: stamp, pipeline: "p", by: "t", logger: logger) })
        // Two claims at once take two different jobs (SKIP LOCKED), a third finds none.
        let other = QueueLink(address: sandbox.address, logger: logger)
        async let first = link.run { try await JobStore.claim($0, owner: "one", lease: 1, logger: logger) }
        async let second = other.run { try await JobStore.claim($0, owner: "two", lease: 30, logger: logger) }
        let one = try #require(try await first)
        let two = try #require(try await second)
        #expect(one.id != two.id)
        #expect(try await link.run { try await JobStore.claim($0, owner: "three", lease: 30, logger: logger) } == nil)
        // One's lease runs out: the job is claimable again, counted as lost once.
        try await Task.sleep(for: .milliseconds(1300))
        let again = try #require(try await other.run { try await JobStore.claim($0, owner: "two", lease: 30, logger: logger) })
        #expect(again.id == one.id && again.attempts == 2 && again.lost == 1)
        // The first holder can neither renew nor store a result any more.
        #expect(try await !link.run { try await JobStore.renew($0, one, lease: 30, logger: logger) })
        let document = ProcessedDocument(outputName: "x", document: [1], report: nil, pipeline: "p")
        #expect(try await !link.run { try await JobStore.complete($0, one, document, by: "one", logger: logger) })
        #expect(try await other.run { try await JobStore.complete($0, again, document, by: "two", logger: logger) })
        #expect(try await link.run { try await JobStore.pending($0, logger: logger) } == (1, 1))
        await link.close()
        await other.close()
    }

    @Test func theSchemaIsCreatedOnceAndANewerOneIsRefused() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let logger = Logger(label: "t")
        // Three daemons starting together migrate once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await QueueService.prepare(sandbox.address, logger: logger) } }
            try await group.waitForAll()
        }
        try await cluster.psql("UPDATE infill_schema SET version = 99", database: sandbox.database)
        await #expect {
            try await QueueService.prepare(sandbox.address, logger: logger)
        } throws: { error in
            "\(error)".contains("the queue's schema is version 99, newer than this infill's (1)")
        }
    }

    @Test func wrongDatabaseUserOrPermissionsGiveAClearError() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let logger = Logger(label: "t")
        await #expect {
            try await QueueService.prepare(cluster.address(database: "nosuchdb"), logger: logger)
        } throws: { error in
            let text = "\(error)"
            return text.contains("database \"nosuchdb\" does not exist") && text.contains("createdb -O postgres nosuchdb")
                && text.hasPrefix("queue postgresql://postgres@127.0.0.1:\(cluster.port)/nosuchdb")
        }
        await #expect {
            try await QueueService.prepare(cluster.address(user: "nobody_here"), logger: logger)
        } throws: { error in "\(error)".contains("role \"nobody_here\" does not exist") && "\(error)".contains("check the user and password") }
        // PostgreSQL 15: a plain role may not create tables in a database it does not own.
        try await cluster.psql("CREATE ROLE reader LOGIN")
        try await cluster.psql("CREATE DATABASE locked")
        await #expect {
            try await QueueService.prepare(cluster.address(database: "locked", user: "reader"), logger: logger)
        } throws: { error in
            "\(error)".contains("permission denied for schema public") && "\(error)".contains("GRANT CREATE ON SCHEMA public TO reader")
        }
        let closedPort = try PostgresCluster.freePort()
        await #expect {
            try await QueueService.prepare(try QueueAddress(parsing: "postgresql://u@127.0.0.1:\(closedPort)/d?sslmode=disable"), logger: logger)
        } throws: { error in
            "\(error)".contains("cannot connect") && "\(error)".contains("check the host and port")
        }
    }

    @Test func aServerRestartMidRunLosesNothing() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let daemon = try sandbox.start(0, configuration: sandbox.configuration(workers: 2, lease: 3))
        for index in 0..<12 { try sandbox.drop("r\(index).txt", "SLOW 150\nr \(index)\n") }
        #expect(await sandbox.eventually { sandbox.outputs.count >= 2 })
        try await cluster.stopServer()
        for index in 12..<16 { try sandbox.drop("r\(index).txt", "r \(index)\n") }
        try await Task.sleep(for: .milliseconds(700))
        try await cluster.start()
        let settled = await sandbox.eventually(120) { sandbox.outputs.count == 16 }
        try await daemon.stop()
        #expect(settled, "\(sandbox.outputs) \(cluster.log.suffix(2000))")
        #expect(sandbox.outputs == (0..<16).map { "r\($0).out" }.sorted())
        #expect(sandbox.names("failed").isEmpty)
        #expect(sandbox.names("inbox").isEmpty)
    }

    @Test func filesAKilledWatcherLeftInProcessingAreNeitherLostNorDoubled() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let logger = Logger(label: "t")
        try await QueueService.prepare(sandbox.address, logger: logger)
        do {
            // As a watcher leaves them when killed inside its take: one file already inserted,
            // one not (a newer version that arrived meanwhile).
            let spool = SpoolDirectory(layout: sandbox.layout(0))
            try spool.prepare()
            try sandbox.drop("left.txt", "left\n")
            let stamp = try #require(spool.inboxStamp("left.txt"))
            let link = QueueLink(address: sandbox.address, logger: logger)
            #expect(try await link.run {
                try await JobStore.enqueue($0, name: "left.txt", contents: Array("left\n".utf8), stamp: stamp, pipeline: "upper", by: "t", logger: logger)
            })
            await link.close()
            #expect(rename(sandbox.root + "/inbox/left.txt", sandbox.layout(0).processing + "/left.txt") == 0)
            try Data("fresh\n".utf8).write(to: URL(fileURLWithPath: sandbox.layout(0).processing + "/fresh.txt"))
        }
        let daemon = try sandbox.start(0)
        let settled = await sandbox.eventually { sandbox.outputs == ["fresh.out", "left.out"] }
        try await daemon.stop()
        #expect(settled, "\(sandbox.outputs)")
        let report = try await QueueAdmin.status(sandbox.address, logger: logger)
        #expect(report.done == 2 && report.queued == 0)
        #expect(sandbox.names("state0/processing").isEmpty && sandbox.names("inbox").isEmpty)
    }

    @Test func aWriterPausingWithTheFileOpenIsNotEnqueuedHalfWritten() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let daemon = try sandbox.start()
        // The watch is up once a first file went through (opens before it are not seen).
        try sandbox.drop("probe.txt", "probe\n")
        #expect(await sandbox.eventually { sandbox.names("inbox").isEmpty })
        let path = sandbox.root + "/inbox/slow.txt"
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        for part in ["first half\n", "second half\n"] {
            try handle.write(contentsOf: Data(part.utf8))
            try await Task.sleep(for: .milliseconds(400))  // eight times settle_ms, the file open
            #expect(sandbox.names("inbox") == ["slow.txt"], "enqueued while still being written")
        }
        try handle.close()
        let done = await sandbox.eventually { sandbox.outputs == ["probe.out", "slow.out"] }
        try await daemon.stop()
        #expect(done, "\(sandbox.outputs)")
        #expect(sandbox.read("outbox/slow.out") == "FIRST HALF\nSECOND HALF\n")
    }

    @Test func aJobWhoseLeasesKeepRunningOutIsQuarantined() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        let logger = Logger(label: "t")
        try await QueueService.prepare(sandbox.address, logger: logger)
        let link = QueueLink(address: sandbox.address, logger: logger)
        let stamp = FileStamp(size: 5, modified: 1, isRegularFile: true)
        #expect(try await link.run {
            try await JobStore.enqueue($0, name: "killer.txt", contents: Array("boom\n".utf8), stamp: stamp, pipeline: "upper", by: "t", logger: logger)
        })
        // Two workers take it in turn and die on it (their leases run out).
        for _ in 0..<2 {
            #expect(try await link.run { try await JobStore.claim($0, owner: "doomed", lease: 0.2, logger: logger) } != nil)
            try await Task.sleep(for: .milliseconds(350))
        }
        await link.close()
        var configuration = sandbox.configuration()
        configuration.quarantineAfter = 2
        let daemon = try sandbox.start(0, configuration: configuration)
        let held = await sandbox.eventually { sandbox.names("state0/quarantine") == ["killer.txt", "killer.txt.error.json"] }
        try await daemon.stop()
        #expect(held, "\(sandbox.names("state0/quarantine")) \(sandbox.names("failed"))")
        #expect(sandbox.read("state0/quarantine/killer.txt") == "boom\n")
        #expect(sandbox.read("state0/quarantine/killer.txt.error.json")?.contains("stopped 2 times before finishing it") == true)
        #expect(sandbox.outputs.isEmpty && sandbox.names("failed").isEmpty)
    }

    @Test func onceDrainsTheQueueAndReturns() async throws {
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let sandbox = try await QueueSandbox(cluster: cluster)
        for index in 0..<4 { try sandbox.drop("o\(index).txt", "o \(index)\n") }
        let daemon = try sandbox.start(once: true)
        try await daemon.task.value
        #expect(sandbox.outputs.count == 4)
        #expect(daemon.service.summary.exportedDone == 4)
    }
}

