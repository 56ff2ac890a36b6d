/// The folders of one spool: where users drop files, where results and failures go, and the
/// daemon's own state (`processing/`, `done/`), which must be on the inbox's filesystem.
public struct SpoolLayout: Sendable, Equatable {
    public var inbox: String
    public var outbox: String
    public var failed: String
    public var state: String

    public init(inbox: String, outbox: String, failed: String, state: String) {
        self.inbox = inbox
        self.outbox = outbox
        self.failed = failed
        self.state = state
    }

    /// Claimed inputs being worked on (`state/processing`).
    public var processing: String { state + "/processing" }
    /// Inputs kept after success when `keep_done` is set (`state/done`).
    public var done: String { state + "/done" }
    /// Where outputs are written before their rename into the outbox (`outbox/.tmp`).
    public var outboxTemporary: String { outbox + "/.tmp" }
    /// Where error reports are written before their rename into `failed/` (`failed/.tmp`).
    public var failedTemporary: String { failed + "/.tmp" }
    /// The lock file that keeps a second daemon off the same spool.
    public var lockFile: String { state + "/lock" }

    /// True for names the daemon never touches: dotfiles and files still being written
    /// (`*.tmp`, `*.part`).
    public static func isIgnored(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part") || name.isEmpty
    }

    /// `stem-N.ext` (or `name-N` without an extension): the N-th alternative for a taken name.
    public static func alternative(_ name: String, _ n: Int) -> String {
        guard n > 0 else { return name }
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return "\(name[..<dot])-\(n)\(name[dot...])"
        }
        return "\(name)-\(n)"
    }
}
