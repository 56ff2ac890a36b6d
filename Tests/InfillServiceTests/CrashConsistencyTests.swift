import Foundation
import Testing
@testable import InfillService
import InfillServiceTestKit

/// Crash consistency without trusting the page cache: the spool's durability steps are recorded
/// (``DurabilityLog``) and checked against the protocol, so a power cut at any point leaves every
/// document either still claimed or completely published, never lost and never half visible.
@Suite(.serialized) struct CrashConsistencyTests {
    typealias Step = DurabilityLog.Step

    /// Runs the once-mode daemon on `a.md` (filled) and `b.md` (fails) and returns the steps.
    func recordedRun(_ folder: TemporaryFolder) async throws -> [Step] {
        let root = folder.path
        let processor = EchoProcessor(onProcess: { DurabilityLog.note("process \($0)", at: root) })
        try FileManager.default.createDirectory(atPath: folder.layout.inbox, withIntermediateDirectories: true)
        try folder.drop("a.md", "a\n")
        try folder.drop("b.md", "FAIL\n")
        let service = try SpoolServiceTests.makeService(folder, processor, once: true) { $0.workers = 1 }
        DurabilityLog.start(under: root)
        do {
            try await service.run()
        } catch {
            _ = DurabilityLog.stop(under: root)
            throw error
        }
        return DurabilityLog.stop(under: root)
    }

    func index(_ steps: [Step], _ step: Step) -> Int? { steps.firstIndex(of: step) }

    func renameInto(_ steps: [Step], _ target: String) -> Int? {
        steps.firstIndex { if case .rename(_, let to) = $0 { return to == target } else { return false } }
    }

    /// True when `step` happens strictly between positions `after` and `before`.
    func happens(_ steps: [Step], _ step: Step, after: Int, before: Int) -> Bool {
        steps.indices.contains { $0 > after && $0 < before && steps[$0] == step }
    }

    @Test func everythingRenamedIntoViewWasFsyncedFirst() async throws {
        let folder = TemporaryFolder()
        let steps = try await recordedRun(folder)
        let staging = folder.layout.staging + "/"
        var renames = 0
        for (position, step) in steps.enumerated() {
            guard case .rename(let from, _) = step, from.hasPrefix(staging) else { continue }
            renames += 1
            #expect(steps[..<position].contains(.fsyncFile(from)), "\(from) renamed before its data was fsynced")
        }
        // Journal, attempts, report and document of a; journal, attempts and error report of b.
        #expect(renames >= 7)
    }

    @Test func aCommitIsDurableBeforeTheInputGoes() async throws {
        let folder = TemporaryFolder()
        let steps = try await recordedRun(folder)
        let layout = folder.layout
        let attempts = try #require(renameInto(steps, layout.attempts + "/a.md"))
        let process = try #require(index(steps, .note("process a.md")))
        let journal = try #require(renameInto(steps, layout.commits + "/a.md"))
        let report = try #require(renameInto(steps, layout.outbox + "/a.out.report.json"))
        let document = try #require(renameInto(steps, layout.outbox + "/a.out"))
        let release = try #require(index(steps, .unlink(layout.processing + "/a.md")))
        // The start is counted on disk before the work begins (a kill then counts).
        #expect(happens(steps, .fsyncDirectory(layout.attempts), after: attempts, before: process))
        // The journal is on disk before anything is published under the chosen name.
        #expect(happens(steps, .fsyncDirectory(layout.commits), after: journal, before: report))
        // The report is on disk before the document appears, the document before the input goes.
        #expect(happens(steps, .fsyncDirectory(layout.outbox), after: report, before: document))
        #expect(happens(steps, .fsyncDirectory(layout.outbox), after: document, before: release))
        #expect(happens(steps, .fsyncDirectory(layout.processing), after: release, before: steps.count))
    }

    @Test func aFailureIsDurableBeforeTheInputMoves() async throws {
        let folder = TemporaryFolder()
        let steps = try await recordedRun(folder)
        let layout = folder.layout
        let reason = try #require(renameInto(steps, layout.failed + "/b.md.error.json"))
        let moved = try #require(renameInto(steps, layout.failed + "/b.md"))
        #expect(reason < moved)
        #expect(happens(steps, .fsyncDirectory(layout.failed), after: reason, before: moved))
        #expect(happens(steps, .fsyncDirectory(layout.failed), after: moved, before: steps.count))
    }
}
