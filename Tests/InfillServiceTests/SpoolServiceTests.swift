import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import InfillService
import InfillServiceTestKit

/// In-process runs of the daemon on temporary spools with the ``EchoProcessor`` double.
@Suite(.serialized) struct SpoolServiceTests {
    /// A running daemon inside a ServiceGroup, stopped through graceful shutdown as SIGTERM would.
    struct Daemon {
        let service: SpoolService
        let group: ServiceGroup
        let task: Task<Void, any Error>

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    static func configuration(_ folder: TemporaryFolder, _ adjust: (inout ServiceConfiguration) -> Void = { _ in }) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        configuration.inbox = folder.layout.inbox
        configuration.outbox = folder.layout.outbox
        configuration.failed = folder.layout.failed
        configuration.state = folder.layout.state
        configuration.settleMilliseconds = 50
        configuration.retryBackoffMilliseconds = 20
        adjust(&configuration)
        return configuration
    }

    static func makeService(
        _ folder: TemporaryFolder, _ processor: EchoProcessor, once: Bool = false, notifier: SystemdNotifier = .init(environment: [:]),
        _ adjust: (inout ServiceConfiguration) -> Void = { _ in }
    ) throws -> SpoolService {
        let configuration = configuration(folder, adjust)
        let spool = SpoolDirectory(layout: configuration.layout, keepDone: configuration.keepDone)
        try spool.prepare()
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return SpoolService(
            spool: spool, processor: processor, options: SpoolServiceOptions(configuration: configuration, once: once),
            notifier: notifier, logger: logger)
    }

    static func start(_ service: SpoolService) -> Daemon {
        var logger = Logger(label: "test-group")
        logger.logLevel = .critical
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let task = Task { try await group.run() }
        return Daemon(service: service, group: group, task: task)
    }

    /// Creates the inbox folder (the daemon makes it itself at start; batch tests drop files first).
    static func inbox(_ folder: TemporaryFolder) throws {
        try FileManager.default.createDirectory(atPath: folder.layout.inbox, withIntermediateDirectories: true)
    }

    /// The JSON object in `relative` (an `.error.json` file).
    static func errorJSON(_ folder: TemporaryFolder, _ relative: String) throws -> [String: Any] {
        let text = try #require(folder.read(relative))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func onceModeBurstOfThirtyWithThreeMalformed() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        try FileManager.default.createDirectory(atPath: folder.layout.inbox, withIntermediateDirectories: true)
        for index in 0..<30 {
            try folder.drop("doc\(index).md", index % 10 == 3 ? "title\nFAIL here\n" : "document \(index)\n")
        }
        let service = try Self.makeService(folder, processor, once: true) { $0.workers = 3 }
        try await service.run()
        let summary = await service.summary
        #expect(summary.done == 27 && summary.failed == 3)
        let outputs = folder.names("outbox").filter { !$0.hasSuffix(".report.json") }
        #expect(outputs.count == 27)
        #expect(folder.names("outbox").filter { $0.hasSuffix(".report.json") }.count == 27)
        #expect(folder.read("outbox/doc7.out") == "DOCUMENT 7\n")
        #expect(folder.names("failed") == ["doc13.md", "doc13.md.error.json", "doc23.md", "doc23.md.error.json", "doc3.md", "doc3.md.error.json"])
        #expect(folder.read("failed/doc3.md.error.json")?.contains("\"line\" : 2") == true)
        #expect(folder.names("inbox").isEmpty)
        #expect(folder.names("state/processing").isEmpty)
        #expect(processor.maxConcurrent.load(ordering: .relaxed) <= 3)
    }

    @Test func pipelinesInterleaveFairly() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        try FileManager.default.createDirectory(atPath: folder.layout.inbox, withIntermediateDirectories: true)
        for name in ["a1.md", "a2.md", "a3.md", "a4.md", "b1.b", "b2.b"] { try folder.drop(name, name) }
        let service = try Self.makeService(folder, processor, once: true) {
            $0.workers = 1
            $0.queueLimit = 10
        }
        try await service.run()
        #expect(processor.order.withLock { $0 } == ["a1.md", "b1.b", "a2.md", "b2.b", "a3.md", "a4.md"])
    }

    @Test func leftoverClaimsAreProcessedOnStart() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        try FileManager.default.createDirectory(atPath: folder.layout.processing, withIntermediateDirectories: true)
        try folder.write("crashed\n", to: "state/processing/left.md")
        let service = try Self.makeService(folder, processor, once: true)
        try await service.run()
        #expect(folder.read("outbox/left.out") == "CRASHED\n")
        #expect(folder.names("state/processing").isEmpty)
    }

    @Test func daemonProcessesFilesDroppedWhileBusy() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        let daemon = Self.start(try Self.makeService(folder, processor) { $0.workers = 2 })
        for index in 0..<4 { try folder.drop("first\(index).md", "SLOW 150\n") }
        #expect(await Self.eventually { processor.concurrent.load(ordering: .relaxed) > 0 })
        for index in 0..<4 { try folder.drop("second\(index).md", "SLOW 20\n") }
        #expect(await Self.eventually { folder.names("outbox").filter { $0.hasSuffix(".out") }.count == 8 })
        try await daemon.stop()
        #expect(processor.maxConcurrent.load(ordering: .relaxed) == 2)
        #expect(folder.names("inbox").isEmpty && folder.names("state/processing").isEmpty)
    }

    @Test func shutdownFinishesInFlightDocuments() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        let daemon = Self.start(try Self.makeService(folder, processor) { $0.stopTimeoutSeconds = 10 })
        try folder.drop("busy.md", "SLOW 300\n")
        // Started (not "running now"): on a loaded machine this poll can miss the 300 ms window.
        #expect(await Self.eventually { processor.order.withLock { $0.contains("busy.md") } })
        try await daemon.stop()
        #expect(folder.read("outbox/busy.out") == "SLOW 300\n")
        #expect(folder.names("state/processing").isEmpty)
    }

    @Test func shutdownPutsUnfinishedDocumentsBackAfterTheStopTimeout() async throws {
        let folder = TemporaryFolder()
        let processor = EchoProcessor()
        let daemon = Self.start(try Self.makeService(folder, processor) { $0.stopTimeoutSeconds = 0.2 })
        try folder.drop("long.md", "SLOW 20000\n")
        #expect(await Self.eventually { processor.concurrent.load(ordering: .relaxed) == 1 })
        let started = Date()
        try await daemon.stop()
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(folder.read("inbox/long.md") == "SLOW 20000\n")
        #expect(folder.names("outbox").isEmpty)
        #expect(folder.names("state/processing").isEmpty)
    }

    @Test func brokenReloadKeepsServingAndNotifiesSystemd() async throws {
        let folder = TemporaryFolder()
        let listener = try NotifySocketListener(abstract: false, folder: folder)
        let processor = EchoProcessor()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.address])
        let daemon = Self.start(try Self.makeService(folder, processor, notifier: notifier))
        try folder.drop("one.md", "one\n")
        #expect(await Self.eventually { folder.read("outbox/one.out") != nil })
        processor.brokenSpec.store(true, ordering: .relaxed)
        await daemon.service.reload()
        try folder.drop("two.md", "two\n")
        #expect(await Self.eventually { folder.read("outbox/two.out") == "TWO\n" })
        processor.brokenSpec.store(false, ordering: .relaxed)
        await daemon.service.reload()
        #expect(processor.reloads.load(ordering: .relaxed) == 1)
        try await daemon.stop()
        let messages = listener.receive()
        #expect(messages.first?.hasPrefix("READY=1\nSTATUS=queued 0, working 0, done 0, failed 0") == true)
        #expect(messages.filter { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }.count == 2)
        #expect(messages.filter { $0.hasPrefix("READY=1") }.count == 3)
        #expect(messages.contains { $0.hasPrefix("STATUS=") && $0.contains("done 2") })
        #expect(messages.last == "STOPPING=1")
    }
}
