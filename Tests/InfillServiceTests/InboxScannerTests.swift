import Foundation
import Testing
@testable import InfillService
import InfillServiceTestKit
#if canImport(Glibc)
import Glibc
#endif

// Nested in SpoolServiceTests, whose `.serialized` covers it: the daemon suites start real
// daemons with timing expectations and must not run beside each other.
extension SpoolServiceTests {
    /// The inbox side (``InboxScanner``, ``InboxWatch``): files are claimed only once settled and
    /// closed, found by polling too, never starved by files that keep changing; names that are not
    /// UTF-8 go to `failed/`.
    @Suite struct InboxScannerTests {
        typealias Helpers = SpoolServiceTests

        @Test func pollingModeFindsFilesWithoutInotify() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            let daemon = Helpers.start(try Helpers.makeService(folder, processor) { $0.watch = .poll })
            try folder.drop("p.md", "polled\n")
            #expect(await Helpers.eventually { folder.read("outbox/p.out") == "POLLED\n" })
            try await daemon.stop()
        }

        @Test func slowlyWrittenFileIsNotClaimedBeforeItSettles() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            let daemon = Helpers.start(try Helpers.makeService(folder, processor) { $0.settleMilliseconds = 600 })
            try await Task.sleep(for: .milliseconds(100))
            let path = folder.layout.inbox + "/slow.md"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            var expected = ""
            for chunk in 0..<6 {
                let text = "chunk \(chunk)\n"
                expected += text
                try handle.write(contentsOf: Data(text.utf8))
                try await Task.sleep(for: .milliseconds(120))
                #expect(FileManager.default.fileExists(atPath: path), "claimed while still being written")
            }
            try handle.close()
            #expect(await Helpers.eventually { folder.read("outbox/slow.out") != nil })
            #expect(folder.read("outbox/slow.out") == expected.uppercased())
            try await daemon.stop()
        }

        @Test func filesThatNeverSettleCannotStarveTheOthers() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            // More churning files than the settle tracker has slots, all named before the good one.
            let churners = (0..<80).map { String(format: "a%02d.md", $0) }
            for name in churners { try folder.write("0", to: "inbox/" + name) }
            let churning = Task.detached {
                var round = 0
                while !Task.isCancelled {
                    round += 1
                    for name in churners { try? folder.write(String(repeating: "x", count: round % 50 + 1), to: "inbox/" + name) }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            defer { churning.cancel() }
            let daemon = Helpers.start(try Helpers.makeService(folder, processor) { $0.settleMilliseconds = 200 })
            try await Task.sleep(for: .milliseconds(300))
            try folder.drop("z.md", "last\n")
            #expect(await Helpers.eventually(15) { folder.read("outbox/z.out") == "LAST\n" })
            churning.cancel()
            try await daemon.stop()
        }

        @Test func aWriterThatPausesWithTheFileOpenIsNotCutShort() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            let daemon = Helpers.start(try Helpers.makeService(folder, processor) { $0.settleMilliseconds = 100 })
            // A file opened before the watch begins has no open event to count, so wait until the
            // daemon has picked up a probe: from then on the watch sees every open.
            try folder.drop("probe.md", "probe\n")
            #expect(await Helpers.eventually(60) { folder.read("outbox/probe.out") != nil })
            let path = folder.layout.inbox + "/paused.md"
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.write(contentsOf: Data("first half\n".utf8))
            // Six settle times without a change, but still open for writing.
            try await Task.sleep(for: .milliseconds(600))
            #expect(FileManager.default.fileExists(atPath: path), "claimed while the writer still held it open")
            try handle.write(contentsOf: Data("second half\n".utf8))
            try handle.close()
            #expect(await Helpers.eventually { folder.read("outbox/paused.out") != nil })
            #expect(folder.read("outbox/paused.out") == "FIRST HALF\nSECOND HALF\n")
            try await daemon.stop()
        }

        @Test func openCountsNeverKeepALaterFileWaiting() {
            var events = InboxEvents()
            events.record(.closed("early.md"))  // opened before the watch began
            events.record(.opened("a.md"))
            events.record(.opened("a.md"))
            events.record(.closed("a.md"))
            events.record(.opened("moved.md"))
            events.record(.gone("moved.md"))
            #expect(events.take().open == ["a.md"])
            events.record(.rescan)
            #expect(events.take().open.isEmpty)
        }

        @Test func aNameThatIsNotUTF8IsReportedInFailed() async throws {
            let folder = TemporaryFolder()
            let processor = EchoProcessor()
            try Helpers.inbox(folder)
            let raw: [UInt8] = Array(folder.layout.inbox.utf8) + Array("/caf".utf8) + [0xE9] + Array(".md".utf8) + [0]
            let fd = raw.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
            #expect(fd >= 0)
            close(fd)
            let service = try Helpers.makeService(folder, processor, once: true)
            try await service.run()
            #expect(folder.names("inbox").isEmpty)
            #expect(folder.names("failed") == ["caf%E9.md", "caf%E9.md.error.json"])
            let json = try Helpers.errorJSON(folder, "failed/caf%E9.md.error.json")
            #expect((json["error"] as? String)?.contains("UTF-8") == true)
            let summary = await service.summary
            #expect(summary.failed == 1)
        }
    }
}
