import Foundation
import Testing
@testable import InfillService

@Suite struct SpoolDirectoryTests {
    func makeSpool(_ folder: TemporaryFolder, keepDone: Bool = false) throws -> SpoolDirectory {
        let spool = SpoolDirectory(layout: folder.layout, keepDone: keepDone)
        try spool.prepare()
        return spool
    }

    func document(_ name: String, _ text: String) -> ProcessedDocument {
        ProcessedDocument(outputName: name, document: Array(text.utf8), report: Array("{}".utf8), pipeline: "p")
    }

    @Test func claimCommitRemovesTheInputAndPublishesBothFiles() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.md", "hello")
        #expect(try spool.inboxNames() == ["a.md"])
        #expect(try spool.claim("a.md") == .claimed)
        #expect(folder.names("inbox").isEmpty)
        #expect(try spool.readClaimed("a.md") == Array("hello".utf8))
        let commit = try spool.commit("a.md", document("a.out", "HELLO"))
        #expect(commit == .init(documentName: "a.out", alreadyPresent: false))
        #expect(folder.read("outbox/a.out") == "HELLO")
        #expect(folder.read("outbox/a.out.report.json") == "{}")
        #expect(folder.names("state/processing").isEmpty)
        #expect(folder.names("state/staging").isEmpty)
    }

    @Test func claimingAVanishedFileIsNotAnError() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        #expect(try spool.claim("nothing.md") == .gone)
    }

    @Test func aSecondFileOfTheSameNameWaitsWhileTheFirstIsClaimed() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.md", "one")
        #expect(try spool.claim("a.md") == .claimed)
        try folder.drop("a.md", "two")
        #expect(try spool.claim("a.md") == .busy)
        #expect(folder.read("inbox/a.md") == "two")
        #expect(try spool.readClaimed("a.md") == Array("one".utf8))
    }

    @Test func identicalOutputIsReusedAndADifferentOneGetsASuffix() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        for (name, text) in [("a.md", "X"), ("b.md", "X"), ("c.md", "Y"), ("d.md", "Z")] {
            try folder.drop(name, text)
            _ = try spool.claim(name)
        }
        #expect(try spool.commit("a.md", document("r.md", "same")).documentName == "r.md")
        // A re-run after a crash writes identical bytes: no duplicate.
        #expect(try spool.commit("b.md", document("r.md", "same")) == .init(documentName: "r.md", alreadyPresent: true))
        #expect(try spool.commit("c.md", document("r.md", "different")).documentName == "r-1.md")
        #expect(try spool.commit("d.md", document("r.md", "third")).documentName == "r-2.md")
        #expect(folder.read("outbox/r.md") == "same")
        #expect(folder.read("outbox/r-1.md") == "different")
        #expect(folder.read("outbox/r-2.md.report.json") == "{}")
    }

    @Test func thePageIsPublishedWithTheDocumentAndNeverTakesAnotherFilesName() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        for name in ["a.md", "b.md", "c.md"] {
            try folder.drop(name, name)
            _ = try spool.claim(name)
        }
        var page = document("p.md", "A")
        page.html = Array("<html>A</html>".utf8)
        #expect(try spool.commit("a.md", page) == .init(documentName: "p.md", alreadyPresent: false))
        #expect(folder.names("outbox") == ["p.md", "p.md.html", "p.md.report.json"])
        #expect(folder.read("outbox/p.md.html") == "<html>A</html>")
        // A document that happens to be called like the next page: the page goes elsewhere.
        #expect(try spool.commit("b.md", document("q.md.html", "not a page")).documentName == "q.md.html")
        var second = document("q.md", "B")
        second.html = Array("<html>B</html>".utf8)
        #expect(try spool.commit("c.md", second).documentName == "q-1.md")
        #expect(folder.read("outbox/q.md.html") == "not a page")
        #expect(folder.read("outbox/q-1.md.html") == "<html>B</html>")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/outbox/q.md"), "no document without its page")
        #expect(folder.names("state/staging").isEmpty && folder.names("state/commits").isEmpty)
    }

    @Test func failureMovesTheInputNextToItsReason() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("bad.md", "oops")
        _ = try spool.claim("bad.md")
        let failure = DocumentFailure(message: "unknown placeholder 'x'", file: "bad.md", line: 3, column: 7, hint: "define it")
        #expect(try spool.fail("bad.md", failure, attempts: 1) == "bad.md")
        #expect(folder.read("failed/bad.md") == "oops")
        let json = try #require(folder.read("failed/bad.md.error.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["error"] as? String == "unknown placeholder 'x'")
        #expect(object["file"] as? String == "bad.md")
        #expect(object["line"] as? Int == 3)
        #expect(object["column"] as? Int == 7)
        #expect(object["hint"] as? String == "define it")
        // A second failure of the same name does not replace the first.
        try folder.drop("bad.md", "again")
        _ = try spool.claim("bad.md")
        #expect(try spool.fail("bad.md", DocumentFailure(message: "m"), attempts: 2) == "bad-1.md")
        let second = try #require(folder.read("failed/bad-1.md.error.json"))
        #expect(second.contains("\"file\" : null"))
    }

    @Test func putBackReturnsTheFileUnderItsOwnName() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.note.md", "old")
        _ = try spool.claim("a.note.md")
        #expect(try spool.putBack("a.note.md") == "a.note.md")
        #expect(folder.read("inbox/a.note.md") == "old")
        #expect(folder.names("state/processing").isEmpty)
    }

    @Test func leftoverClaimsAreFoundAfterACrash() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.md", "1")
        try folder.drop("b.md", "2")
        _ = try spool.claim("b.md")
        _ = try spool.claim("a.md")
        #expect(try spool.leftoverClaims() == ["a.md", "b.md"])
    }

    @Test func ignoresDotfilesPartialFilesAndFolders() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        for name in [".hidden", "x.tmp", "y.part", "ok.md"] { try folder.write("z", to: "inbox/" + name) }
        try FileManager.default.createDirectory(atPath: folder.layout.inbox + "/sub", withIntermediateDirectories: false)
        // A link could point at a file only the daemon may read: never followed.
        try FileManager.default.createSymbolicLink(atPath: folder.layout.inbox + "/link.md", withDestinationPath: folder.layout.inbox + "/ok.md")
        #expect(try spool.inboxNames() == ["ok.md"])
    }

    @Test func keepDoneKeepsTheInput() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder, keepDone: true)
        try folder.drop("a.md", "x")
        _ = try spool.claim("a.md")
        _ = try spool.commit("a.md", document("a.out", "X"))
        #expect(folder.read("state/done/a.md") == "x")
    }

    @Test func outputNamesCannotEscapeTheOutbox() throws {
        let folder = TemporaryFolder()
        let spool = try makeSpool(folder)
        try folder.drop("a.md", "x")
        _ = try spool.claim("a.md")
        #expect(throws: SpoolError.self) { try spool.commit("a.md", document("../evil", "X")) }
        #expect(folder.read("state/processing/a.md") == "x")
    }

    @Test func aSecondDaemonCannotTakeTheSameSpool() throws {
        let folder = TemporaryFolder()
        let first = try makeSpool(folder)
        let second = SpoolDirectory(layout: folder.layout)
        let error = #expect(throws: SpoolError.self) { try second.prepare() }
        #expect(error?.description.contains("already using the spool") == true)
        _ = first
    }

    @Test func alternativeNames() {
        #expect(SpoolLayout.alternative("a.md", 0) == "a.md")
        #expect(SpoolLayout.alternative("a.md", 2) == "a-2.md")
        #expect(SpoolLayout.alternative("README", 1) == "README-1")
        #expect(SpoolLayout.alternative("a.brief.md", 1) == "a.brief-1.md")
    }
}
