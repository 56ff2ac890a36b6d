import Foundation
@testable import InfillService
import Testing

/// The spool side of the shared queue, without a server: taking enqueued inbox files, and the
/// exporter's idempotent writes into the outbox and failed/ (an exporter killed between its rename
/// and its database update runs again and must write nothing twice).
@Suite struct SpoolExportTests {
    final class Folder: @unchecked Sendable {
        let root = FileManager.default.temporaryDirectory.path + "/infill-export-tests-" + UUID().uuidString
        let spool: SpoolDirectory
        init() throws {
            spool = SpoolDirectory(layout: SpoolLayout(inbox: root + "/inbox", outbox: root + "/outbox", failed: root + "/failed", state: root + "/state"))
            try spool.prepare()
        }
        deinit { try? FileManager.default.removeItem(atPath: root) }
        func names(_ folder: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).sorted()
        }
        func write(_ relative: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + relative))
        }
    }

    @Test func exportingTheSameDocumentTwiceWritesItOnce() throws {
        let folder = try Folder()
        let document = ProcessedDocument(outputName: "a.md", document: Array("A\n".utf8), report: Array("{}\n".utf8), pipeline: "p")
        let first = try folder.spool.export(document)
        #expect(first == SpoolDirectory.Commit(documentName: "a.md", alreadyPresent: false))
        // The same job again (its exporter died before marking it exported): nothing new.
        let again = try folder.spool.export(document)
        #expect(again == SpoolDirectory.Commit(documentName: "a.md", alreadyPresent: true))
        #expect(folder.names("outbox") == ["a.md", "a.md.report.json"])
        // Another document of that name is never written over.
        let other = ProcessedDocument(outputName: "a.md", document: Array("B\n".utf8), report: Array("{}\n".utf8), pipeline: "p")
        #expect(try folder.spool.export(other).documentName == "a-1.md")
        #expect(folder.names("outbox") == ["a-1.md", "a-1.md.report.json", "a.md", "a.md.report.json"])
        #expect(folder.names("state/staging").isEmpty)
    }

    @Test func exportingTheSameFailureTwiceWritesItOnce() throws {
        let folder = try Folder()
        let report = DocumentFailure(message: "broken", file: "b.md", line: 3).errorReport(document: "b.md", attempts: 1)
        #expect(try folder.spool.exportFailure(name: "b.md", contents: Array("bad\n".utf8), errorReport: report) == "b.md")
        #expect(try folder.spool.exportFailure(name: "b.md", contents: Array("bad\n".utf8), errorReport: report) == "b.md")
        #expect(try folder.spool.exportFailure(name: "b.md", contents: Array("other\n".utf8), errorReport: report) == "b-1.md")
        #expect(folder.names("failed") == ["b-1.md", "b-1.md.error.json", "b.md", "b.md.error.json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.root + "/failed/b.md.error.json"))) as? [String: Any])
        #expect(json["error"] as? String == "broken" && json["line"] as? Int == 3 && json["attempts"] as? Int == 1)
    }

    @Test func anEnqueuedFileIsTakenOnlyWhileItHoldsWhatWasStored() throws {
        let folder = try Folder()
        try folder.write("inbox/c.md", "one")
        #expect(try folder.spool.takeEnqueued("c.md", expected: Array("one".utf8)))
        #expect(folder.names("inbox").isEmpty && folder.names("state/processing").isEmpty)
        // Replaced by its writer after it was read: put back for the next pass, not removed.
        try folder.write("inbox/d.md", "new")
        #expect(try !folder.spool.takeEnqueued("d.md", expected: Array("old".utf8)))
        #expect(folder.names("inbox") == ["d.md"])
        // Gone already (another watcher took it): done.
        #expect(try folder.spool.takeEnqueued("e.md", expected: []))
    }
}
