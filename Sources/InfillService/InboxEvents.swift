/// What the inotify thread reported since the daemon's last tick, and which inbox files someone
/// holds open right now.
///
/// A writer that pauses longer than `settle_ms` leaves size and mtime unchanged, yet the file is
/// not complete: while a file is open it is not claimed. Opens are counted from the watch's
/// events (reads count too: inotify does not say which); a lost event queue resets the counts,
/// and a file moved out or removed is forgotten, so a count can never keep a later file waiting.
public struct InboxEvents: Sendable {
    /// Names mentioned since the last tick.
    var names: Set<String> = []
    /// A full rescan is due.
    var rescan = true
    /// Open descriptors per name, as far as the events tell.
    private(set) var openCounts: [String: Int] = [:]

    public init() {}

    /// Counts one event of the watch.
    public mutating func record(_ event: WatchEvent) {
        switch event {
        case .file(let name):
            names.insert(name)
        case .opened(let name):
            openCounts[name, default: 0] += 1
        case .closed(let name):
            // A file opened before the watch began closes without an open: never below zero.
            let left = (openCounts[name] ?? 0) - 1
            openCounts[name] = left > 0 ? left : nil
            names.insert(name)
        case .gone(let name):
            openCounts[name] = nil
        case .rescan:
            rescan = true
            openCounts.removeAll()
        }
    }

    /// Takes the names and the rescan flag (the open counts stay).
    public mutating func take() -> (names: Set<String>, rescan: Bool, open: Set<String>) {
        defer {
            names = []
            rescan = false
        }
        return (names, rescan, Set(openCounts.keys))
    }
}
