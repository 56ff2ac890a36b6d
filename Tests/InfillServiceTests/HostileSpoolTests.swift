import Foundation
import Testing
@testable import InfillService
#if canImport(Glibc)
import Glibc
#endif

/// The spool against an unfriendly inbox group and unlucky files: planted links, FIFOs, huge
/// files, clashing and overlong names, names that are not UTF-8.
@Suite struct HostileSpoolTests {
    func makeSpool(_ folder: TemporaryFolder) throws -> SpoolDirectory {
        let spool = SpoolDirectory(layout: folder.layout)
        try spool.prepare()
        return spool
    }

    func document(_ name: String, _ text: String, report: String? = "{}") -> ProcessedDocument {
        ProcessedDocument(outputName: name, document: Array(text.utf8), report: report.map { Array($0.utf8) }, pipeline: "p")
    }

    @Test func stagingLivesInTheStateFolderNotInTheGroupWritableOutbox() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.md", "x")
        _ = try spool.claim("a.md")
        _ = try spool.commit("a.md", document("a.out", "X"))
        #expect(!FileManager.default.fileExists(atPath: folder.layout.outbox + "/.tmp"))
        #expect(!FileManager.default.fileExists(atPath: folder.layout.failed + "/.tmp"))
        #expect(FileManager.default.fileExists(atPath: folder.layout.state + "/staging"))
    }

    @Test func aLinkPlantedAtTheOldStagingFolderDoesNotMakeStartUpDeleteClaims() throws {
        let folder = TemporaryFolder()
        for path in [folder.layout.outbox, folder.layout.state + "/processing"] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        try folder.write("claimed\n", to: "state/processing/a.md")
        // A member of the inbox group replaces outbox/.tmp by a link into processing/.
        try FileManager.default.createSymbolicLink(atPath: folder.layout.outbox + "/.tmp", withDestinationPath: folder.layout.state + "/processing")
        _ = try makeSpool(folder)
        #expect(folder.read("state/processing/a.md") == "claimed\n")
    }

    @Test func aLinkInPlaceOfTheStagingFolderIsRefusedAtStartUp() throws {
        let folder = TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.layout.state + "/processing", withIntermediateDirectories: true)
        try folder.write("claimed\n", to: "state/processing/a.md")
        try FileManager.default.createSymbolicLink(atPath: folder.layout.state + "/staging", withDestinationPath: folder.layout.state + "/processing")
        let spool = SpoolDirectory(layout: folder.layout)
        let error = #expect(throws: SpoolError.self) { try spool.prepare() }
        #expect(error?.description.contains("not a directory") == true)
        #expect(folder.read("state/processing/a.md") == "claimed\n")
    }

    @Test func stagingFilesAreCreatedExclusivelyAndNeverThroughALink() throws {
        let folder = TemporaryFolder()
        try folder.write("precious\n", to: "victim")
        let link = folder.path + "/planted"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: folder.path + "/victim")
        #expect(throws: SystemError.self) { try FileOperations.writeDurably(Array("evil".utf8), to: link) }
        #expect(folder.read("victim") == "precious\n")
        try folder.write("old\n", to: "existing")
        #expect(throws: SystemError.self) { try FileOperations.writeDurably(Array("new".utf8), to: folder.path + "/existing") }
        #expect(folder.read("existing") == "old\n")
    }

    @Test func aReportNeverReplacesAnUnrelatedDocumentOfThatName() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        // Someone else's document that happens to be called like r.md's report.
        try folder.write("unrelated\n", to: "outbox/r.md.report.json")
        try folder.drop("a.md", "a")
        _ = try spool.claim("a.md")
        let commit = try spool.commit("a.md", document("r.md", "R"))
        #expect(commit.documentName == "r-1.md")
        #expect(folder.read("outbox/r.md.report.json") == "unrelated\n")
        #expect(folder.read("outbox/r-1.md") == "R")
        #expect(folder.read("outbox/r-1.md.report.json") == "{}")
        #expect(!FileManager.default.fileExists(atPath: folder.layout.outbox + "/r.md"))
    }

    @Test func aClaimedFIFOIsRefusedAtOpenWithoutBlocking() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        #expect(mkfifo(folder.layout.inbox + "/pipe.md", 0o644) == 0)
        #expect(try spool.claim("pipe.md") == .claimed)
        let error = #expect(throws: SpoolError.self) { try spool.readClaimed("pipe.md") }
        #expect(error?.description.contains("not a regular file") == true)
    }

    @Test func putBackKeepsTheOriginalNameAndNeverReplacesANewFile() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.note.md", "old")
        _ = try spool.claim("a.note.md")
        try folder.drop("a.note.md", "new")
        // The name is taken: the claim stays in processing/ (requeued at the next start) rather
        // than coming back as a.note-1.md, which would no longer match '*.note.md'.
        #expect(try spool.putBack("a.note.md") == nil)
        #expect(folder.names("inbox") == ["a.note.md"])
        #expect(folder.read("inbox/a.note.md") == "new")
        #expect(folder.read("state/processing/a.note.md") == "old")
    }

    @Test func aFailedDocumentWithALongNameStillReachesFailed() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        let name = String(repeating: "n", count: 248) + ".md"
        try folder.drop(name, "x")
        _ = try spool.claim(name)
        let failedAs = try spool.fail(name, DocumentFailure(message: "m"), attempts: 1)
        #expect(failedAs.utf8.count + ".error.json".utf8.count <= 255)
        #expect(failedAs.hasSuffix(".md"))
        #expect(folder.read("failed/" + failedAs) == "x")
        #expect(folder.read("failed/" + failedAs + ".error.json")?.contains(name) == true)
        #expect(folder.names("state/processing").isEmpty)
    }

    @Test func aFailedFolderOnAnotherFilesystemIsRefusedAtStartUp() throws {
        let folder = TemporaryFolder()
        // EXDEV: a failure could never be renamed into failed/, and would be refilled at every start.
        let other = "/dev/shm/infill-service-tests-" + UUID().uuidString
        guard let here = FileOperations.device(folder.path), let there = FileOperations.device("/dev/shm"), here != there else { return }
        defer { try? FileManager.default.removeItem(atPath: other) }
        var layout = folder.layout
        layout.failed = other
        let error = #expect(throws: SpoolError.self) { try SpoolDirectory(layout: layout).prepare() }
        #expect(error?.description.contains("\(other) is not on the same filesystem as the state folder") == true)
    }

    @Test func alternativesOfLongNamesStayWithinTheLimit() {
        let long = String(repeating: "é", count: 120) + ".brief.md"
        let shortened = SpoolLayout.shortened(long, toBytes: 100)
        #expect(shortened.utf8.count <= 100)
        #expect(shortened.hasSuffix(".md"))
        #expect(SpoolLayout.shortened("a.md", toBytes: 100) == "a.md")
    }
}
