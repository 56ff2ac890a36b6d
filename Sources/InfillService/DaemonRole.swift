/// What one daemon of a shared queue does (`roles:` in infill.yaml): a fleet may have one watcher
/// and exporter next to the shared folders and many workers elsewhere.
public enum DaemonRole: String, Sendable, CaseIterable, Comparable {
    /// Enqueues the settled files of the inbox.
    case watch
    /// Claims jobs, fills them and stores the results.
    case work
    /// Writes stored results into the outbox and `failed/`.
    case export

    public static func < (a: DaemonRole, b: DaemonRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses `watch,work` (commas or spaces); the failure carries the first unknown word.
    public static func parseList(_ text: String) -> Result<Set<DaemonRole>, UnknownRole> {
        var roles: Set<DaemonRole> = []
        for word in text.split(whereSeparator: { $0 == "," || $0 == " " }) {
            guard let role = DaemonRole(rawValue: String(word)) else { return .failure(UnknownRole(word: String(word))) }
            roles.insert(role)
        }
        return roles.isEmpty ? .failure(UnknownRole(word: "")) : .success(roles)
    }
}

/// A word in a role list that is not a role.
public struct UnknownRole: Error, Sendable, Equatable, CustomStringConvertible {
    public var word: String
    public var description: String { word }
}
