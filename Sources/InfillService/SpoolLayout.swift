/// The folders of one spool: where users drop files, where results and failures go, and the
/// daemon's own state (`processing/`, `staging/`, `attempts/`, `commits/`,
/// `quarantine/`), which must be on the
/// inbox's filesystem.
///
/// Everything the daemon writes first lives in `state/` (not writable by the inbox group): files
/// are staged there and renamed into the outbox or `failed/`, never staged in a folder others can
/// write to.
public struct SpoolLayout: Sendable, Equatable {
    public var inbox: String
    public var outbox: String
    public var failed: String
    public var state: String
    /// Inputs that kept killing (or timing out) the daemon, each next to `NAME.error.json`
    /// (Postfix's hold queue); `state/quarantine` unless configured.
    public var quarantine: String

    public init(inbox: String, outbox: String, failed: String, state: String, quarantine: String? = nil) {
        self.inbox = inbox
        self.outbox = outbox
        self.failed = failed
        self.state = state
        self.quarantine = quarantine ?? state + "/quarantine"
    }

    /// Claimed inputs being worked on (`state/processing`).
    public var processing: String { state + "/processing" }
    /// Inputs kept after success when `keep_done` is set (`state/done`).
    public var done: String { state + "/done" }
    /// Where outputs and error reports are written before their rename into place (`state/staging`).
    public var staging: String { state + "/staging" }
    /// How many runs started each claimed document without finishing it (`state/attempts/NAME`).
    public var attempts: String { state + "/attempts" }
    /// Where each claim's output is going (`state/commits/NAME`): journaled before anything is
    /// published, so a run killed halfway through a commit is finished, not duplicated, by the next.
    public var commits: String { state + "/commits" }
    /// The lock file that keeps a second daemon off the same spool.
    public var lockFile: String { state + "/lock" }

    /// The longest document and output name the spool accepts, in UTF-8 bytes: room is left for a
    /// `-N` alternative and `.report.json` / `.error.json` within the 255 bytes of a file name.
    public static let maxNameBytes = 200

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

    /// `name` cut to at most `limit` UTF-8 bytes, keeping its last extension and whole characters.
    public static func shortened(_ name: String, toBytes limit: Int) -> String {
        guard name.utf8.count > limit else { return name }
        var stem = Substring(name)
        var suffix = Substring("")
        if let dot = name.lastIndex(of: "."), dot != name.startIndex, name.utf8.count - name[..<dot].utf8.count <= limit / 4 {
            stem = name[..<dot]
            suffix = name[dot...]
        }
        let room = limit - suffix.utf8.count
        var kept = ""
        for character in stem {
            if kept.utf8.count + character.utf8.count > room { break }
            kept.append(character)
        }
        return kept + suffix
    }

    /// A printable stand-in for a file name that is not UTF-8: every byte outside printable ASCII,
    /// and `%` itself, as `%XX` (`caf\xE9.md` becomes `caf%E9.md`).
    public static func escaped(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != 0x25 {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
