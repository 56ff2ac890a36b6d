import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `infill serve` end to end: the built binary on temporary spools with the tiny fixture model.
@Suite(.serialized) struct ServeTests {
    @Test func burstOfThirtyWithThreeMalformed() throws {
        let sandbox = try ServeSandbox()
        let daemon = try sandbox.start()
        for index in 0..<30 {
            try sandbox.drop("doc\(index).note.md", index % 10 == 4 ? ServeSandbox.malformed : ServeSandbox.template(index))
        }
        let settled = sandbox.eventually { sandbox.outputs.count == 27 && sandbox.names("failed").count == 6 }
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0)
        #expect(settled, "\(daemon.log)")
        #expect(sandbox.outputs.count == 27)
        #expect(sandbox.names("outbox").filter { $0.hasSuffix(".report.json") }.count == 27)
        #expect(sandbox.read("outbox/doc7.md")?.hasSuffix("End of note 7.\n") == true)
        for index in [4, 14, 24] {
            let reason = try #require(sandbox.read("failed/doc\(index).note.md.error.json"))
            let json = try #require(try JSONSerialization.jsonObject(with: Data(reason.utf8)) as? [String: Any])
            #expect(json["line"] as? Int == 3)
            #expect(json["column"] as? Int != nil)
            #expect((json["error"] as? String)?.contains("words") == true)
            #expect(sandbox.read("failed/doc\(index).note.md") == ServeSandbox.malformed)
        }
        #expect(sandbox.names("inbox").isEmpty)
        #expect(sandbox.names(".infill/processing").isEmpty)
        #expect(daemon.log.contains("result=failed"))
        #expect(daemon.log.contains("document=doc7.note.md pipeline=note result=done seconds="))
    }

    @Test func onceProcessesTheInboxAndExitsOneOnFailure() throws {
        let sandbox = try ServeSandbox()
        try sandbox.drop("a.note.md", ServeSandbox.template(1))
        try sandbox.drop("b.note.md", ServeSandbox.malformed)
        let run = try sandbox.start(["--once"])
        #expect(run.wait() == 1)
        #expect(sandbox.outputs == ["a.md"])
        #expect(sandbox.names("failed") == ["b.note.md", "b.note.md.error.json"])
        let clean = try ServeSandbox()
        try clean.drop("a.note.md", ServeSandbox.template(1))
        let second = try clean.start(["--once"])
        #expect(second.wait() == 0)
        // Deterministic: the same input gives the same bytes in another spool.
        #expect(clean.read("outbox/a.md") == sandbox.read("outbox/a.md"))
    }

    @Test func killNineMidRunThenRestartGivesEveryDocumentExactlyOnce() throws {
        let sandbox = try ServeSandbox()
        let count = 80
        for index in 0..<count { try sandbox.drop("k\(index).note.md", ServeSandbox.template(index)) }
        let daemon = try sandbox.start(["--settle-ms", "0"])
        #expect(sandbox.eventually { sandbox.outputs.count >= 5 })
        daemon.signal(SIGKILL)
        daemon.wait()
        let doneBeforeKill = sandbox.outputs.count
        #expect(doneBeforeKill < count, "the run finished before the kill; make documents slower")
        let restart = try sandbox.start(["--once"])
        #expect(restart.wait() == 0, "\(restart.log)")
        #expect(sandbox.outputs == (0..<count).map { "k\($0).md" }.sorted())
        #expect(sandbox.names("inbox").isEmpty && sandbox.names(".infill/processing").isEmpty)
        #expect(sandbox.names("failed").isEmpty)
        // No partial file: every output is the complete document (its last line is there) and
        // identical to a clean run of the same input.
        let reference = try ServeSandbox()
        for index in [0, count / 2, count - 1] { try reference.drop("k\(index).note.md", ServeSandbox.template(index)) }
        #expect(try reference.start(["--once"]).wait() == 0)
        for index in 0..<count {
            #expect(sandbox.read("outbox/k\(index).md")?.hasSuffix("End of note \(index).\n") == true)
        }
        for index in [0, count / 2, count - 1] {
            #expect(sandbox.read("outbox/k\(index).md") == reference.read("outbox/k\(index).md"))
        }
        #expect(sandbox.names(".infill/staging").isEmpty)
    }

    @Test func sigtermDrainsAndExitsZeroWithoutLosingDocuments() throws {
        let sandbox = try ServeSandbox()
        let count = 60
        let daemon = try sandbox.start(["--settle-ms", "0"])
        for index in 0..<count { try sandbox.drop("t\(index).note.md", ServeSandbox.template(index)) }
        #expect(sandbox.eventually { sandbox.outputs.count >= 2 })
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0, "\(daemon.log)")
        #expect(daemon.log.contains("stopping"))
        // Each document is either finished or still (back) in the inbox; none is lost or half done.
        let finished = Set(sandbox.outputs.map { $0.replacingOccurrences(of: ".md", with: "") })
        let waiting = Set(sandbox.names("inbox").map { $0.replacingOccurrences(of: ".note.md", with: "") })
        #expect(finished.count + waiting.count == count)
        #expect(finished.isDisjoint(with: waiting))
        #expect(sandbox.names(".infill/processing").isEmpty)
        #expect(finished.count < count, "everything finished before SIGTERM; make documents slower")
    }

    @Test func sighupWithABrokenSpecKeepsTheOldPipelines() throws {
        let sandbox = try ServeSandbox()
        let daemon = try sandbox.start()
        try sandbox.drop("one.note.md", ServeSandbox.template(1))
        #expect(sandbox.eventually { sandbox.outputs == ["one.md"] })
        try sandbox.write("pipelines/note.yaml", "name: note\nmatch: \"*.note.md\"\nfeilds:\n  body: {tokens: 4}\n")
        daemon.signal(SIGHUP)
        #expect(sandbox.eventually { daemon.log.contains("reload failed") })
        #expect(daemon.log.contains("note.yaml:3:1"), "\(daemon.log)")
        try sandbox.drop("two.note.md", ServeSandbox.template(2))
        #expect(sandbox.eventually { sandbox.outputs == ["one.md", "two.md"] })
        try sandbox.write("pipelines/note.yaml", ServeSandbox.pipeline(steps: 4, tokens: "3-5").replacingOccurrences(of: "{stem}.md", with: "{stem}.txt"))
        daemon.signal(SIGHUP)
        #expect(sandbox.eventually { daemon.log.contains("pipelines reloaded") })
        try sandbox.drop("three.note.md", ServeSandbox.template(3))
        #expect(sandbox.eventually { sandbox.outputs.contains("three.txt") }, "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0)
    }

    @Test func slowlyWrittenFileIsNotClaimedBeforeItSettles() throws {
        let sandbox = try ServeSandbox()
        let daemon = try sandbox.start(["--settle-ms", "1000"])
        let path = sandbox.path("inbox/slow.note.md")
        let text = ServeSandbox.template(9)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        // Half now, the rest after pauses shorter than the settle time.
        let bytes = Array(text.utf8)
        let pieces = [0, bytes.count / 4, bytes.count / 2, 3 * bytes.count / 4, bytes.count]
        for i in 0..<(pieces.count - 1) {
            _ = bytes[pieces[i]..<pieces[i + 1]].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            // Pauses well below the settle time, so even a loaded machine keeps the file unsettled.
            usleep(200_000)
            #expect(FileManager.default.fileExists(atPath: path), "claimed while still being written")
        }
        close(fd)
        #expect(sandbox.eventually { sandbox.outputs == ["slow.md"] })
        #expect(sandbox.read("outbox/slow.md")?.hasSuffix("End of note 9.\n") == true)
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0)
    }

    @Test func filesDroppedWhileBusyAreProcessed() throws {
        let sandbox = try ServeSandbox()
        let daemon = try sandbox.start(["--workers", "1", "--settle-ms", "50"])
        for index in 0..<30 { try sandbox.drop("first\(index).note.md", ServeSandbox.template(index)) }
        #expect(sandbox.eventually { sandbox.outputs.count >= 1 })
        #expect(sandbox.outputs.count < 30, "everything finished before the second drop; make documents slower")
        for index in 0..<10 { try sandbox.drop("second\(index).note.md", ServeSandbox.template(index)) }
        #expect(sandbox.eventually { sandbox.outputs.count == 40 }, "\(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0)
    }

    @Test func notifySocketReceivesReadyStatusAndStopping() throws {
        let sandbox = try ServeSandbox()
        let listener = try NotifyListener(path: sandbox.path("notify.sock"))
        var messages: [String] = []
        func receive() { messages = listener.messages }
        let daemon = try sandbox.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "400000"])
        #expect(sandbox.eventually {
            receive()
            return messages.contains { $0.hasPrefix("READY=1") }
        })
        try sandbox.drop("n.note.md", ServeSandbox.template(1))
        #expect(sandbox.eventually {
            receive()
            return messages.contains { $0.hasPrefix("STATUS=") && $0.contains("done 1") }
        })
        daemon.signal(SIGHUP)
        #expect(sandbox.eventually {
            receive()
            return messages.contains { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }
        })
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0)
        usleep(150_000)
        receive()
        #expect(messages.contains("STOPPING=1"))
        #expect(messages.contains("WATCHDOG=1"))
        #expect(messages.filter { $0.hasPrefix("READY=1") }.count >= 2)
    }

    @Test func configErrorsNameTheirPositionAndExitTwo() throws {
        let sandbox = try ServeSandbox()
        try sandbox.write("infill.yaml", "inbox: inbox\nworkrs: 2\n")
        let run = try sandbox.start(["--once"])
        #expect(run.wait() == 2)
        #expect(run.log.contains("infill.yaml:2:1: unknown key 'workrs' (hint: did you mean 'workers'?)"))
        let missing = try sandbox.start(["--once", "--config", sandbox.path("none.yaml")])
        #expect(missing.wait() == 2)
        #expect(missing.log.contains("none.yaml: cannot read the config file"))
        try sandbox.write("infill.yaml", "pipelines: nowhere\n")
        let noPipelines = try sandbox.start(["--once"])
        #expect(noPipelines.wait() == 2)
        #expect(noPipelines.log.contains("nowhere: the pipelines folder does not exist"))
    }

    @Test func aSecondDaemonOnTheSameSpoolIsRefused() throws {
        let sandbox = try ServeSandbox()
        let first = try sandbox.start()
        #expect(sandbox.eventually { first.log.contains("ready") })
        let second = try sandbox.start()
        #expect(second.wait() == 2)
        #expect(second.log.contains("already using the spool"))
        first.signal(SIGTERM)
        #expect(first.wait() == 0)
    }
}
