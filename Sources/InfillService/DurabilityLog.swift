import Synchronization

/// A test-only record of the spool's durability steps, in the order they happened: file fsyncs,
/// renames, folder fsyncs and removals under a path prefix.
///
/// The crash-consistency tests check that order against the protocol (data fsynced before it is
/// renamed into view, the outbox fsynced before the input is removed, …) instead of relying on the
/// page cache to survive a kill, which it always does. Recording costs one atomic load per step
/// while no test listens.
public enum DurabilityLog {
    /// One durability-relevant step.
    public enum Step: Equatable, Sendable {
        /// A file's data reached the disk (`fsync` returned 0).
        case fsyncFile(String)
        /// An atomic rename took effect (in the page cache; durable after its folder's fsync).
        case rename(from: String, to: String)
        /// A folder's entries reached the disk.
        case fsyncDirectory(String)
        /// A file was removed.
        case unlink(String)
        /// A marker the test adds (such as "the processor started").
        case note(String)
    }

    private static let listeners = Atomic<Int>(0)
    private static let logs = Mutex<[String: [Step]]>([:])

    /// Starts recording the steps on paths under `prefix`.
    public static func start(under prefix: String) {
        logs.withLock { $0[prefix] = [] }
        listeners.add(1, ordering: .releasing)
    }

    /// Stops recording under `prefix` and returns what was recorded.
    public static func stop(under prefix: String) -> [Step] {
        listeners.subtract(1, ordering: .releasing)
        return logs.withLock { $0.removeValue(forKey: prefix) } ?? []
    }

    /// Appends a marker to every log whose prefix `path` is under.
    public static func note(_ text: String, at path: String) {
        record(.note(text), path: path)
    }

    static func record(_ step: Step, path: String) {
        guard listeners.load(ordering: .acquiring) > 0 else { return }
        logs.withLock { logs in
            for prefix in logs.keys where path.hasPrefix(prefix) { logs[prefix]?.append(step) }
        }
    }
}
