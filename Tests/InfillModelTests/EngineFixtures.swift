import Foundation
@testable import InfillModel

/// Paths and readers for the engine's fixtures in Tests/Fixtures (made by tools/reference/).
enum EngineFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func path(_ name: String) -> String { folder + "/" + name }

    /// One reference case of tiny-reference.json.
    struct Case: Decodable {
        var model: String
        var adapter: String?
        var tokens: [Int32]
        var attention: String
        var rows: [Int]
        var logits: [[Float]]
    }

    struct Reference: Decodable {
        var text: String
        var cases: [Case]
    }

    static let reference: Reference = {
        let data = FileManager.default.contents(atPath: path("tiny-reference.json")) ?? Data()
        return (try? JSONDecoder().decode(Reference.self, from: data)) ?? Reference(text: "", cases: [])
    }()

    /// The largest |a − b| over the largest |b|: the relative error the parity tests bound.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count, !b.isEmpty else { return .infinity }
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max()! / max(scale, 1e-6)
    }

    /// A temporary copy of `bytes` as a file; removed by the caller's `defer`.
    static func temporaryFile(_ bytes: [UInt8], name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-engine-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    static func bytes(_ name: String) -> [UInt8] {
        [UInt8](FileManager.default.contents(atPath: path(name)) ?? Data())
    }
}
