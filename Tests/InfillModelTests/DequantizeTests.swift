import Foundation
import Testing
@testable import InfillModel

/// The dequantisers against the PyPI `gguf` package's decoder (Tests/Fixtures/dequant-reference.json,
/// written by tools/reference/make_quant_fixtures.py).
@Suite struct DequantizeTests {
    struct Case: Decodable {
        var type: String
        var kind: String
        var count: Int
        var bytes: String
        var expected: String
    }

    struct Reference: Decodable { var cases: [Case] }

    static let cases: [Case] = {
        let data = FileManager.default.contents(atPath: EngineFixtures.path("dequant-reference.json")) ?? Data()
        return (try? JSONDecoder().decode(Reference.self, from: data))?.cases ?? []
    }()

    static func type(named name: String) -> TensorType? {
        TensorType.supported.first { $0.description == name }
    }

    @Test func everyNewTypeHasBothCases() {
        let names = Set(Self.cases.map { "\($0.type) \($0.kind)" })
        for type in ["Q4_K", "Q5_K", "Q6_K", "Q5_0", "Q5_1"] {
            #expect(names.contains("\(type) encoded") && names.contains("\(type) random"), "\(type)")
        }
    }

    @Test(arguments: cases.indices)
    func decodesLikeGGUFPackage(index: Int) throws {
        let c = Self.cases[index]
        let type = try #require(Self.type(named: c.type), "\(c.type) is not a supported type")
        let stored = try #require(Data(base64Encoded: c.bytes))
        let expectedBytes = try #require(Data(base64Encoded: c.expected))
        #expect(type.byteCount(elements: c.count) == stored.count)
        let expected = expectedBytes.withUnsafeBytes { raw in
            (0..<c.count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        let values = stored.withUnsafeBytes { Dequantize.decode(type, from: $0, count: c.count) }
        var worst: Float = 0
        for (a, b) in zip(values, expected) { worst = max(worst, abs(a - b) / max(abs(b), 1e-3)) }
        #expect(worst < 1e-6, "\(c.type) \(c.kind): worst relative difference \(worst)")
    }

    @Test func ggmlTypeNumbersAndSizes() {
        let table: [(UInt32, TensorType, Int, Int)] = [
            (6, .q5_0, 32, 22), (7, .q5_1, 32, 24), (12, .q4_K, 256, 144), (13, .q5_K, 256, 176), (14, .q6_K, 256, 210),
        ]
        for (number, type, elements, bytes) in table {
            #expect(TensorType(ggmlType: number) == type)
            #expect(type.blockElements == elements && type.blockBytes == bytes)
        }
        #expect(TensorType.q4_K.byteCount(elements: 300) == nil)
    }
}
