import Synchronization

/// The step progress of the documents being filled, written by worker threads and read for the
/// systemd STATUS line.
final class ProgressBoard: Sendable {
    private let entries = Mutex<[String: (step: Int, total: Int)]>([:])

    func update(_ name: String, step: Int, total: Int) {
        entries.withLock { $0[name] = (step, total) }
    }

    func remove(_ name: String) {
        entries.withLock { $0[name] = nil }
    }

    /// `a.md 12/32` for a document with progress, `a.md` for one without.
    func describe(_ names: [String]) -> [String] {
        entries.withLock { entries in
            names.map { name in
                entries[name].map { "\(name) \($0.step)/\($0.total)" } ?? name
            }
        }
    }
}
