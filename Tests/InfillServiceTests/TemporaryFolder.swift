import Foundation
@testable import InfillService

/// A fresh folder under the system temp dir, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let path: String

    init() {
        let base = FileManager.default.temporaryDirectory.path + "/infill-service-tests-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The spool layout inside this folder.
    var layout: SpoolLayout {
        SpoolLayout(inbox: path + "/inbox", outbox: path + "/outbox", failed: path + "/failed", state: path + "/state")
    }

    func write(_ text: String, to relative: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + relative))
    }

    /// Drops a file into the inbox the way well-behaved writers do: write a dotfile, rename in.
    func drop(_ name: String, _ text: String) throws {
        let staging = layout.inbox + "/.drop-" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
        guard rename(staging, layout.inbox + "/" + name) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func read(_ relative: String) -> String? {
        (try? Data(contentsOf: URL(fileURLWithPath: path + "/" + relative))).map { String(decoding: $0, as: UTF8.self) }
    }

    func names(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path + "/" + relative)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }
}
