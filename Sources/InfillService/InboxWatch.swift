import Synchronization

/// The inbox's change feed: what the inotify thread reported since the last tick, and which files
/// are held open; in `watch: poll` mode no thread feeds it and only the periodic rescans count.
final class InboxWatch: Sendable {
    private let events = Mutex(InboxEvents())
    private let watcher: InotifyWatcher?

    /// Starts watching `inbox` with inotify when `mode` is `.inotify`; with `.poll` nothing is watched.
    init(inbox: String, mode: ServiceConfiguration.WatchMode) throws {
        guard mode == .inotify else {
            watcher = nil
            return
        }
        let inotify = try InotifyWatcher(directory: inbox)
        watcher = inotify
        // Watch first, then scan (the first tick rescans): files that arrived before the watch
        // produce no events.
        inotify.start { [self] event in
            self.events.withLock { $0.record(event) }
        }
    }

    /// Takes the names and the rescan flag reported since the last call (see ``InboxEvents/take()``).
    func take() -> (names: Set<String>, rescan: Bool, open: Set<String>) {
        events.withLock { $0.take() }
    }

    /// Stops the inotify thread, if there is one.
    func stop() {
        watcher?.stop()
    }
}
