import Foundation
import Testing
@testable import InfillModel

/// ``DreamGGUFExport`` and ``GGUFWriter``: a merged export is the same model as base + adapter.
@Suite struct DreamGGUFExportTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("infill-export-\(UUID().uuidString)-\(name)").path
    }

    @Test func exportMatchesTheIndependentReferenceOfBasePlusAdapter() throws {
        let out = Self.temporaryPath("tiny-dream-merged.gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let summary = try DreamGGUFExport.export(
            basePath: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: EngineFixtures.path("tiny-adapter"), to: out)
        #expect(summary.mergedPairs == 10)

        let exported = try ModelLoader.loadGGUF(path: out, adapterFolder: nil, name: nil)
        #expect(exported.description.config.architecture == "dream")
        #expect(exported.description.adapter == nil)
        let merged = try ModelLoader.loadGGUF(
            path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: EngineFixtures.path("tiny-adapter"), name: nil)
        // The conventions travel with the file.
        #expect(exported.model.maskTokenID == merged.model.maskTokenID)
        #expect(exported.model.nullTokenID == merged.model.nullTokenID)
        #expect(exported.model.startTokenID == merged.model.startTokenID)
        #expect(exported.model.logitShift == merged.model.logitShift)
        #expect(exported.model.attention == .bidirectional)
        #expect(exported.loaded.tokenizer.encode("The capital of France") == merged.loaded.tokenizer.encode("The capital of France"))

        // Logits: the float64 numpy reference of tiny-llama + tiny-adapter (tools/reference/reference.py).
        let c = try #require(EngineFixtures.reference.cases.first { $0.adapter == "tiny-adapter" })
        let logits = try exported.model.transformer.logits(sequences: [c.tokens], outputRows: [c.rows], attention: .bidirectional)[0]
        for (r, expected) in c.logits.enumerated() {
            let error = EngineFixtures.relativeError(Array(logits[row: r]), expected)
            #expect(error < 1e-4, "row \(c.rows[r]): relative error \(error)")
        }
    }

    @Test func halfPrecisionExportsStayClose() throws {
        let c = try #require(EngineFixtures.reference.cases.first { $0.adapter == "tiny-adapter" })
        for type in [TensorType.f16, .bf16] {
            let out = Self.temporaryPath("tiny-\(type).gguf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            try DreamGGUFExport.export(
                basePath: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: EngineFixtures.path("tiny-adapter"), to: out, type: type)
            let file = try GGUFFile(path: out)
            #expect(file.tensor(named: "blk.0.attn_q.weight")?.type == type)
            #expect(file.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
            let exported = try ModelLoader.loadGGUF(path: out, adapterFolder: nil, name: nil)
            let logits = try exported.model.transformer.logits(sequences: [c.tokens], outputRows: [c.rows], attention: .bidirectional)[0]
            for (r, expected) in c.logits.enumerated() {
                #expect(EngineFixtures.relativeError(Array(logits[row: r]), expected) < 0.03, "\(type) row \(c.rows[r])")
            }
        }
    }

    @Test func writerRoundTripsMetadataAndTensors() throws {
        let out = Self.temporaryPath("roundtrip.gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        var writer = GGUFWriter()
        writer.metadata = [
            ("general.architecture", .string("dream")), ("a.u32", .uint32(7)), ("a.f32", .float32(0.5)), ("a.bool", .bool(true)),
            ("a.strings", .array([.string("x"), .string("yz")])), ("a.ints", .array([.int32(-1), .int32(2)])), ("a.empty", .array([])),
        ]
        writer.tensors = [
            GGUFWriter.Tensor(name: "t.odd", shape: [3], type: .f32) { [1, -2, 3.5] },
            GGUFWriter.Tensor(name: "t.matrix", shape: [2, 3], type: .bf16) { [1, 2, 3, 4, 5, -0.5] },
            GGUFWriter.Tensor(name: "t.half", shape: [5], type: .f16) { [0.25, 1, 2, 3, 65504] },
        ]
        try writer.write(to: out)
        let file = try GGUFFile(path: out)
        #expect(file["a.u32"] == .uint32(7) && file["a.f32"] == .float32(0.5) && file["a.bool"] == .bool(true))
        #expect(file["a.strings"] == .array([.string("x"), .string("yz")]))
        #expect(file["a.ints"] == .array([.int32(-1), .int32(2)]))
        #expect(file["a.empty"] == .array([]))
        #expect(try file.floats("t.odd") == [1, -2, 3.5])
        #expect(try file.floats("t.matrix", shape: [2, 3]) == [1, 2, 3, 4, 5, -0.5])
        #expect(try file.floats("t.half") == [0.25, 1, 2, 3, 65504])
        #expect(!FileManager.default.fileExists(atPath: out + ".partial"))
    }

    @Test func bf16RoundsToNearestEven() {
        let data = GGUFWriter.encode([1 + 1.0 / 256, 1 + 3.0 / 256, 1.00390625 + 1e-6], as: .bf16)
        let halves = data.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties go to the even 1.0 (0x3F80).
        #expect(halves == [0x3F80, 0x3F82, 0x3F81])
    }

    @Test func writeErrorsNameTheFile() throws {
        var writer = GGUFWriter()
        writer.metadata = [("k", .uint8(1)), ("k", .uint8(2))]
        #expect { try writer.write(to: Self.temporaryPath("dup.gguf")) } throws: {
            ($0 as? ModelFileError)?.reason.contains("duplicate metadata key 'k'") == true
        }
        writer.metadata = []
        writer.tensors = [GGUFWriter.Tensor(name: "q", shape: [32], type: .q8_0) { [Float](repeating: 0, count: 32) }]
        #expect { try writer.write(to: Self.temporaryPath("q8.gguf")) } throws: {
            ($0 as? ModelFileError)?.reason.contains("cannot encode") == true
        }
        writer.tensors = []
        #expect { try writer.write(to: "/nonexistent-folder/x.gguf") } throws: {
            ($0 as? ModelFileError)?.path == "/nonexistent-folder/x.gguf"
        }
        // A tensor whose values fail leaves no file behind.
        let out = Self.temporaryPath("short.gguf")
        writer.tensors = [GGUFWriter.Tensor(name: "short", shape: [4], type: .f32) { [1, 2] }]
        #expect { try writer.write(to: out) } throws: { ($0 as? ModelFileError)?.reason.contains("2 values") == true }
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".partial"))
    }

    @Test func adapterThatIsNotBidirectionalIsRefused() throws {
        let dir = Self.temporaryPath("causal-adapter")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = EngineFixtures.path("tiny-adapter")
        try FileManager.default.copyItem(atPath: source + "/adapter.safetensors", toPath: dir + "/adapter.safetensors")
        let manifest = try String(contentsOfFile: source + "/manifest.json", encoding: .utf8)
            .replacingOccurrences(of: "\"bidirectional\"", with: "\"causal\"")
        try manifest.write(toFile: dir + "/manifest.json", atomically: true, encoding: .utf8)
        #expect {
            try DreamGGUFExport.export(basePath: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: dir, to: Self.temporaryPath("x.gguf"))
        } throws: { ($0 as? ModelFileError)?.reason.contains("always bidirectional") == true }
    }
}

/// The shipped default model exported as a dream GGUF gives the logits of `--model default`.
@Suite(.enabled(if: defaultModelAvailable, "base model missing: run `infill model fetch`"))
struct DefaultModelDreamExportTests {
    @Test func exportedDefaultModelGivesTheSameLogits() throws {
        let out = DreamGGUFExportTests.temporaryPath("default-dream.gguf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try DreamGGUFExport.export(basePath: ModelCache.default.baseModelURL.path, adapterFolder: defaultAdapterFolder, to: out)
        let exported = try ModelLoader.load(out)
        let merged = try ModelLoader.loadGGUF(
            path: ModelCache.default.baseModelURL.path, adapterFolder: defaultAdapterFolder, name: BaseModel.name)
        #expect(exported.model.startTokenID == 0 && exported.model.maskTokenID == 16 && exported.model.nullTokenID == 0)
        let tokens = [0] + merged.loaded.tokenizer.encode("Dear Ms Patel,\n\nThank you for") + [16, 16, 16, 16]
            + merged.loaded.tokenizer.encode(" the interview.\n")
        let rows = Array(tokens.indices)
        let a = try exported.model.transformer.logits(sequences: [tokens], outputRows: [rows], attention: .bidirectional)[0]
        let b = try merged.model.transformer.logits(sequences: [tokens], outputRows: [rows], attention: .bidirectional)[0]
        for r in rows.indices {
            #expect(EngineFixtures.relativeError(Array(a[row: r]), Array(b[row: r])) < 1e-5, "row \(r)")
        }
    }
}
