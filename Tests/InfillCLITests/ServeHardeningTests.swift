import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `infill serve` end to end against poison pills: a document that keeps getting the daemon
/// killed is quarantined, an oversize input fails unread, staging stays out of the outbox.
@Suite(.serialized) struct ServeHardeningTests {
    @Test func aDocumentThatKeepsGettingTheDaemonKilledIsQuarantined() throws {
        // Slow enough that each run is killed while it is filling the document.
        let sandbox = try ServeSandbox(steps: 256, tokens: "256-256")
        try sandbox.drop("pill.note.md", ServeSandbox.template(1))
        for run in 1...3 {
            let daemon = try sandbox.start(["--settle-ms", "0"])
            let started = sandbox.eventually { sandbox.read(".infill/attempts/pill.note.md") == "\(run)\n" }
            daemon.signal(SIGKILL)
            daemon.wait()
            #expect(started, "run \(run) did not start the document: \(daemon.log)")
            #expect(sandbox.outputs.isEmpty, "the document finished before the kill; make it slower")
        }
        // The fourth start does not start it again: it holds it with the reason.
        let last = try sandbox.start(["--once"])
        #expect(last.wait() == 1, "\(last.log)")
        #expect(sandbox.read(".infill/quarantine/pill.note.md") == ServeSandbox.template(1))
        let reason = try #require(sandbox.read(".infill/quarantine/pill.note.md.error.json"))
        #expect(reason.contains("stopped 3 times"))
        #expect(last.log.contains("result=quarantined"))
        #expect(sandbox.names(".infill/processing").isEmpty && sandbox.names(".infill/attempts").isEmpty)
    }

    @Test func anOversizeInputFailsUnreadAndTheRestIsFilled() throws {
        let sandbox = try ServeSandbox()
        try sandbox.write("infill.yaml", (sandbox.read("infill.yaml") ?? "") + "max_input_bytes: 4096\n")
        let huge = sandbox.path("inbox/huge.note.md")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 64 << 20) == 0)
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        let run = try sandbox.start(["--once"])
        #expect(run.wait() == 1, "\(run.log)")
        #expect(sandbox.outputs == ["a.md"])
        let reason = try #require(sandbox.read("failed/huge.note.md.error.json"))
        #expect(reason.contains("67108864 bytes"))
        #expect(reason.contains("max_input_bytes"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.path("outbox/.tmp")))
    }

    /// The spool's own folders are empty once every claim is settled.
    func expectStateIsClean(_ sandbox: ServeSandbox, sourceLocation: SourceLocation = #_sourceLocation) {
        for folder in ["processing", "staging", "attempts", "commits"] {
            #expect(sandbox.names(".infill/" + folder).isEmpty, "\(folder)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: ["commit-after-journal", "commit-after-report", "commit-after-document", "fail-after-error-report"])
    func aKillAtEachCommitStepLosesAndDuplicatesNothing(failpoint: String) throws {
        let sandbox = try ServeSandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        try sandbox.drop("b.note.md", ServeSandbox.malformed)
        let crashed = try sandbox.start(["--once", "--workers", "1"], environment: ["INFILL_FAILPOINTS": failpoint])
        #expect(crashed.wait() == SIGKILL, "\(crashed.log)")
        let restart = try sandbox.start(["--once"])
        #expect(restart.wait() == 1, "\(restart.log)")
        #expect(sandbox.names("outbox") == ["a.md", "a.md.report.json"])
        #expect(sandbox.read("outbox/a.md")?.hasSuffix("End of note 1.\n") == true)
        #expect(sandbox.names("failed") == ["b.note.md", "b.note.md.error.json"])
        #expect(sandbox.read("failed/b.note.md") == ServeSandbox.malformed)
        #expect(sandbox.names("inbox").isEmpty)
        expectStateIsClean(sandbox)
    }

    @Test(arguments: ["commit-after-report", "commit-after-document"])
    func aRestartWithAnotherThreadCountFinishesTheCommitOnce(failpoint: String) throws {
        let sandbox = try ServeSandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        let crashed = try sandbox.start(["--once", "--threads-per-worker", "1"], environment: ["INFILL_FAILPOINTS": failpoint])
        #expect(crashed.wait() == SIGKILL, "\(crashed.log)")
        // Another BLAS thread count may sum in another order; the journal, not byte equality,
        // tells the restart that the output in the outbox is this claim's own.
        let restart = try sandbox.start(["--once", "--threads-per-worker", "3"])
        #expect(restart.wait() == 0, "\(restart.log)")
        #expect(sandbox.names("outbox") == ["a.md", "a.md.report.json"])
        expectStateIsClean(sandbox)
    }
}
