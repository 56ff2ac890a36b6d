#if canImport(Glibc)
import Glibc
#endif

/// Test-only crash points in the spool protocol. `INFILL_FAILPOINTS=commit-after-report` (a
/// comma-separated list) makes the process SIGKILL itself at that step, so the end-to-end tests
/// can check that a kill between any two steps loses nothing and duplicates nothing.
enum Failpoint: String, CaseIterable, Sendable {
    /// The output name is journaled in `state/commits/`, nothing is published yet.
    case commitAfterJournal = "commit-after-journal"
    /// The report is in the outbox, the document is not.
    case commitAfterReport = "commit-after-report"
    /// The report and the page (`NAME.html`) are in the outbox, the document is not.
    case commitAfterHTML = "commit-after-html"
    /// The document and its report are in the outbox, the input is still claimed.
    case commitAfterDocument = "commit-after-document"
    /// `NAME.error.json` is in `failed/`, the input is still claimed.
    case failAfterErrorReport = "fail-after-error-report"

    /// The failpoints named in the environment at start-up.
    static let active: Set<Failpoint> = {
        guard let value = getenv("INFILL_FAILPOINTS") else { return [] }
        return Set(String(cString: value).split(separator: ",").compactMap { Failpoint(rawValue: String($0)) })
    }()

    /// Kills the process here when this failpoint is active; does nothing otherwise.
    func hit() {
        if Self.active.contains(self) { kill(getpid(), SIGKILL) }
    }
}
