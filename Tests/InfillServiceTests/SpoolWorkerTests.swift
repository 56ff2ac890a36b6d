import Foundation
import Synchronization
import Testing
@testable import InfillService
import InfillServiceTestKit
#if canImport(Glibc)
import Glibc
#endif

// Nested in SpoolServiceTests, whose `.serialized` covers it: the daemon suites start real
// daemons with timing expectations and must not run beside each other.
extension SpoolServiceTests {
    /// The worker's path through a document (``SpoolWorker``): retries, and poison pills — oversize
    /// inputs, FIFOs, documents that keep killing the daemon or never finish, a full disk, names too
    /// long for their error report.
    @Suite struct SpoolWorkerTests {
        typealias Helpers = SpoolServiceTests

        @Test func transientFailuresAreRetriedWithBackoffThenFail() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try FileManager.default.createDirectory(atPath: folder.layout.inbox, withIntermediateDirectories: true)
            try folder.drop("flaky.md", "TRANSIENT 2\nok\n")
            try folder.drop("broken.md", "TRANSIENT 99\n")
            let service = try Helpers.makeService(folder, processor, once: true) { $0.maxAttempts = 3 }
            try await service.run()
            #expect(folder.read("outbox/flaky.out") == "TRANSIENT 2\nOK\n")
            #expect(processor.attempts.withLock { $0 } == ["flaky.md": 3, "broken.md": 3])
            #expect(folder.read("failed/broken.md.error.json")?.contains("gave up after 3 attempts") == true)
            let summary = await service.summary
            #expect(summary.done == 1 && summary.failed == 1)
        }

        @Test func anOversizeInputFailsWithoutBeingRead() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            // 16 MiB, sparse: costs no disk, but would cost memory if it were read whole.
            let path = folder.layout.inbox + "/huge.md"
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            #expect(truncate(path, 16 << 20) == 0)
            try folder.drop("small.md", "fine\n")
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            #expect(processor.attempts.withLock { $0["huge.md"] } == nil)
            #expect(folder.read("outbox/small.out") == "FINE\n")
            let json = try Helpers.errorJSON(folder, "failed/huge.md.error.json")
            #expect((json["error"] as? String)?.contains("16777216 bytes") == true)
            #expect((json["hint"] as? String)?.contains("max_input_bytes") == true)
            #expect(FileManager.default.fileExists(atPath: folder.layout.failed + "/huge.md"))
        }

        @Test func theInputLimitIsConfigurable() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            try folder.drop("a.md", String(repeating: "x", count: 100))
            try folder.drop("b.md", String(repeating: "x", count: 10))
            let service = try Helpers.makeService(folder, processor, once: true) { $0.maxInputBytes = 50 }
            try await service.run()
            #expect(folder.names("failed") == ["a.md", "a.md.error.json"])
            #expect(folder.names("outbox") == ["b.out", "b.out.report.json"])
        }

        @Test(.timeLimit(.minutes(1))) func aFIFOInProcessingGoesToFailedInsteadOfBlockingAWorker() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            // As if it had been swapped in after the settle check and claimed.
            try FileManager.default.createDirectory(atPath: folder.layout.processing, withIntermediateDirectories: true)
            #expect(mkfifo(folder.layout.processing + "/pipe.md", 0o644) == 0)
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            let json = try Helpers.errorJSON(folder, "failed/pipe.md.error.json")
            #expect((json["error"] as? String)?.contains("not a regular file") == true)
            #expect(folder.names("state/processing").isEmpty)
        }

        @Test func aDocumentThatKeepsKillingTheDaemonIsQuarantined() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            // Three earlier runs claimed it and died before finishing (OOM kill, kill -9, ...).
            for directory in [folder.layout.processing, folder.layout.state + "/attempts"] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try folder.write("poison\n", to: "state/processing/pill.md")
            try folder.write("3\n", to: "state/attempts/pill.md")
            try folder.write("once\n", to: "state/processing/unlucky.md")
            try folder.write("1\n", to: "state/attempts/unlucky.md")
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            #expect(processor.attempts.withLock { $0["pill.md"] } == nil)
            #expect(folder.read("state/quarantine/pill.md") == "poison\n")
            let json = try Helpers.errorJSON(folder, "state/quarantine/pill.md.error.json")
            #expect((json["error"] as? String)?.contains("3 times") == true)
            #expect(json["attempts"] as? Int == 3)
            // One interrupted run is bad luck, not a poison pill: processed again.
            #expect(folder.read("outbox/unlucky.out") == "ONCE\n")
            #expect(folder.names("state/processing").isEmpty)
            #expect(folder.names("state/attempts").isEmpty)
        }

        @Test func eachStartIsCountedOnDiskBeforeTheWorkBegins() async throws {
            let folder = TemporaryFolder()
            let seen = CountSpy(path: folder.layout.state + "/attempts/a.md")
            let processor = EchoProcessor(onProcess: { _ in seen.look() })
            try Helpers.inbox(folder)
            try folder.drop("a.md", "a\n")
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            #expect(seen.text.withLock { $0 } == "1\n")
            #expect(folder.names("state/attempts").isEmpty)
        }

        @Test func aDocumentPastItsDeadlineIsGivenUpAndFailed() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            try folder.drop("endless.md", "SLOW 60000\n")
            try folder.drop("quick.md", "quick\n")
            let service = try Helpers.makeService(folder, processor, once: true) {
                $0.documentTimeoutSeconds = 0.3
                $0.workers = 1
            }
            let started = Date()
            try await service.run()
            #expect(Date().timeIntervalSince(started) < 10)
            let json = try Helpers.errorJSON(folder, "failed/endless.md.error.json")
            #expect((json["error"] as? String)?.contains("document_timeout_s (0.3 s)") == true)
            #expect(folder.read("outbox/quick.out") == "QUICK\n")
            // The processor was told (isWanted) and stopped.
            #expect(await Helpers.eventually(5) { processor.concurrent.load(ordering: .relaxed) == 0 })
        }

        @Test func aFullDiskIsWaitedOutNotFailedForGood() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            try folder.drop("a.md", "a\n")
            // One attempt only for the document's own transient failures: the spool's are deferred.
            let service = try Helpers.makeService(folder, processor, once: true) { $0.maxAttempts = 1 }
            service.spool.injectOutboxFailures(5, code: ENOSPC)
            try await service.run()
            #expect(folder.read("outbox/a.out") == "A\n")
            #expect(folder.names("failed").isEmpty)
            #expect(processor.attempts.withLock { $0["a.md"] } == 6)
        }

        @Test func aNameTooLongForItsErrorReportStillFails() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            let name = String(repeating: "l", count: 250) + ".md"
            try folder.drop(name, "FAIL\n")
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            #expect(folder.names("state/processing").isEmpty)
            let failed = folder.names("failed")
            #expect(failed.count == 2)
            #expect(failed.contains { $0.hasSuffix(".md.error.json") })
        }

        @Test func outputsAreGroupWritableUnderTheServiceUmask() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            try folder.drop("a.md", "a\n")
            try folder.drop("b.md", "FAIL\n")
            let service = try Helpers.makeService(folder, processor, once: true)
            let previous = umask(0o007)
            defer { umask(previous) }
            try await service.run()
            for path in ["outbox/a.out", "outbox/a.out.report.json", "failed/b.md.error.json"] {
                let attributes = try FileManager.default.attributesOfItem(atPath: folder.path + "/" + path)
                #expect((attributes[.posixPermissions] as? Int) == 0o660, "\(path)")
            }
        }
    }
}

/// Reads a file from the processor's thread, to see what the daemon wrote before processing.
final class CountSpy: Sendable {
    let path: String
    let text = Mutex<String?>(nil)
    init(path: String) { self.path = path }
    func look() {
        let contents = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
        text.withLock { $0 = contents }
    }
}
