import Foundation
import Testing
@testable import InfillModel

@Suite struct GGUFReaderTests {
    @Test func readsMetadataOfEveryType() throws {
        let file = try GGUFFile(path: EngineFixtures.path("tiny-llama.gguf"))
        #expect(file.version == 3)
        #expect(file["general.architecture"]?.stringValue == "llama")
        #expect(file["llama.embedding_length"]?.intValue == 64)
        #expect(file["llama.rope.freq_base"]?.doubleValue == 10000)
        #expect(file["infill.logit_shift"]?.boolValue == true)
        #expect(file["infill.test.int8"] == .int8(-5))
        #expect(file["infill.test.uint8"] == .uint8(250))
        #expect(file["infill.test.int16"] == .int16(-300))
        #expect(file["infill.test.uint16"] == .uint16(60000))
        #expect(file["infill.test.int32"] == .int32(-70000))
        #expect(file["infill.test.int64"] == .int64(-(1 << 40)))
        #expect(file["infill.test.uint64"] == .uint64(1 << 41))
        #expect(file["infill.test.float64"] == .float64(0.125))
        #expect(file["infill.test.nested"] == .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])]))
        #expect(file["tokenizer.ggml.tokens"]?.arrayValue?.count == 400)
        #expect(file.alignment == 32)
    }

    @Test func readsTensorDirectory() throws {
        let file = try GGUFFile(path: EngineFixtures.path("tiny-llama-q4_1.gguf"))
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.shape == [64, 400])
        #expect(embedding.type == .q4_1)
        #expect(embedding.fileOffset % 32 == 0)
        #expect(file.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
        #expect(file.tensors.count == 2 + 2 * 9)
        let values = try file.floats("blk.1.ffn_down.weight", shape: [128, 64])
        #expect(values.count == 128 * 64)
        #expect(values.allSatisfy { $0.isFinite })
    }

    @Test func quantisedVariantsDecodeCloseToF32() throws {
        let exact = try GGUFFile(path: EngineFixtures.path("tiny-llama.gguf")).floats("blk.0.ffn_up.weight")
        let tolerances: [(String, Float)] = [
            ("f16", 0.002), ("bf16", 0.01), ("q8_0", 0.02), ("q4_0", 0.25), ("q4_1", 0.2),
        ]
        for (variant, tolerance) in tolerances {
            let values = try GGUFFile(path: EngineFixtures.path("tiny-llama-\(variant).gguf")).floats("blk.0.ffn_up.weight")
            let worst = zip(values, exact).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < tolerance, "\(variant): max error \(worst)")
            #expect(worst > 0, "\(variant) must really be stored in its own type")
        }
    }

    @Test func rejectsBadMagicAndVersion() throws {
        var bytes = EngineFixtures.bytes("tiny-llama.gguf")
        bytes[0] = UInt8(ascii: "X")
        let path = EngineFixtures.temporaryFile(bytes, name: "bad-magic.gguf")
        #expect(throws: ModelFileError.self) { try GGUFFile(path: path) }
        do { _ = try GGUFFile(path: path) } catch let error as ModelFileError {
            #expect(error.description.contains("bad-magic.gguf"))
            #expect(error.description.contains("magic"))
        }
        bytes = EngineFixtures.bytes("tiny-llama.gguf")
        bytes[4] = 9
        let versionPath = EngineFixtures.temporaryFile(bytes, name: "v9.gguf")
        #expect { try GGUFFile(path: versionPath) } throws: { ($0 as? ModelFileError)?.reason.contains("version 9") == true }
    }

    @Test func everyTruncationGivesAnErrorNotACrash() throws {
        let bytes = EngineFixtures.bytes("tiny-llama-q8_0.gguf")
        // Cut points through the header, the metadata, the tensor directory and the data.
        let cuts = [0, 3, 7, 15, 23, 40, 200, 1000, 5000, 9000, 12000, bytes.count / 2, bytes.count - 1]
        for cut in cuts {
            let path = EngineFixtures.temporaryFile(Array(bytes[0..<cut]), name: "cut-\(cut).gguf")
            do {
                _ = try GGUFFile(path: path)
                Issue.record("truncation at \(cut) was accepted")
            } catch let error as ModelFileError {
                #expect(error.path == path)
                #expect(!error.reason.isEmpty)
            }
        }
        let lastCut = EngineFixtures.temporaryFile(Array(bytes.dropLast()), name: "cut.gguf")
        #expect { try GGUFFile(path: lastCut) } throws: { ($0 as? ModelFileError)?.reason.contains("tensor '") == true }
    }

    @Test func corruptedCountsAndTypesAreReported() throws {
        let bytes = EngineFixtures.bytes("tiny-llama.gguf")
        // A huge tensor count (bytes 8..<16).
        var huge = bytes
        for i in 8..<16 { huge[i] = 0xFF }
        let hugePath = EngineFixtures.temporaryFile(huge, name: "huge-count.gguf")
        #expect { try GGUFFile(path: hugePath) } throws: { ($0 as? ModelFileError)?.reason.contains("tensor count") == true }

        // An unsupported tensor type: patch the type field of the first tensor info to Q2_K (10).
        let file = try GGUFFile(path: EngineFixtures.path("tiny-llama.gguf"))
        let first = file.tensors[0]
        let nameBytes = Array(first.name.utf8)
        let start = try #require(findSubsequence(nameBytes, in: bytes))
        let typeOffset = start + nameBytes.count + 4 + 8 * first.shape.count
        var patched = bytes
        patched[typeOffset] = 10
        let path = EngineFixtures.temporaryFile(patched, name: "q2k.gguf")
        let opened = try GGUFFile(path: path)
        #expect { try opened.floats(first.name) } throws: {
            let reason = ($0 as? ModelFileError)?.reason ?? ""
            return reason.contains("Q2_K") && reason.contains(first.name)
        }
        // Random corruption of header bytes never crashes: it either opens or throws.
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            var damaged = bytes
            let position = Int(generator.next() % 4000)
            damaged[position] = UInt8(truncatingIfNeeded: generator.next())
            let damagedPath = EngineFixtures.temporaryFile(damaged, name: "damaged.gguf")
            if let opened = try? GGUFFile(path: damagedPath) {
                for tensor in opened.tensors { _ = try? opened.floats(tensor.name) }
            }
            try? FileManager.default.removeItem(atPath: damagedPath)
        }
    }

    @Test func unsupportedArchitectureIsNamed() throws {
        var bytes = EngineFixtures.bytes("tiny-llama.gguf")
        let key = Array("general.architecture".utf8)
        let at = try #require(findSubsequence(key, in: bytes))
        // key, u32 type, u64 length, then "llama": make it "llamb".
        let last = at + key.count + 4 + 8 + 4
        #expect(bytes[last] == UInt8(ascii: "a"))
        bytes[last] = UInt8(ascii: "b")
        let path = EngineFixtures.temporaryFile(bytes, name: "llamb.gguf")
        let file = try GGUFFile(path: path)
        #expect { try GGUFModelReader.config(of: file) } throws: {
            ($0 as? ModelFileError)?.reason.contains("unsupported architecture 'llamb'") == true
        }
    }

    @Test func unsupportedHFModelTypeIsNamed() throws {
        let path = EngineFixtures.temporaryFile(Array(#"{"model_type": "gpt2", "hidden_size": 8}"#.utf8), name: "config.json")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect { try HFModelReader(folder: folder) } throws: {
            let error = $0 as? ModelFileError
            return error?.reason.contains("model_type 'gpt2'") == true && error?.path.hasSuffix("config.json") == true
        }
    }

    @Test func halfPrecisionConversion() {
        #expect(Dequantize.halfToFloat(0x3C00) == 1)
        #expect(Dequantize.halfToFloat(0xC000) == -2)
        #expect(Dequantize.halfToFloat(0x7BFF) == 65504)
        #expect(Dequantize.halfToFloat(0x0001) == 5.960464477539063e-08)
        #expect(Dequantize.halfToFloat(0x7C00) == .infinity)
        #expect(Dequantize.halfToFloat(0x7E00).isNaN)
        #expect(Dequantize.halfToFloat(0x8000) == 0)
    }

    @Test func blockFormatsDecodeByHand() {
        // One Q4_1 block: scale 0.5, minimum -1, nibbles 0..15 low and 15..0 high.
        var q41: [UInt8] = [0x00, 0x38, 0x00, 0xBC]
        for j in 0..<16 { q41.append(UInt8(j) | UInt8(15 - j) << 4) }
        let a = q41.withUnsafeBytes { Dequantize.decode(.q4_1, from: $0, count: 32) }
        #expect(a[0] == -1 && a[15] == 6.5 && a[16] == 6.5 && a[31] == -1)
        // Q4_0: scale 2, value (q - 8)·2.
        var q40: [UInt8] = [0x00, 0x40]
        for j in 0..<16 { q40.append(UInt8(j) | UInt8(j) << 4) }
        let b = q40.withUnsafeBytes { Dequantize.decode(.q4_0, from: $0, count: 32) }
        #expect(b[0] == -16 && b[8] == 0 && b[31] == 14)
        // Q8_0: scale 0.25.
        var q80: [UInt8] = [0x00, 0x34]
        for j in 0..<32 { q80.append(UInt8(bitPattern: Int8(j - 16))) }
        let c = q80.withUnsafeBytes { Dequantize.decode(.q8_0, from: $0, count: 32) }
        #expect(c[0] == -4 && c[16] == 0 && c[31] == 3.75)
        // BF16 1.5 = 0x3FC0.
        let d = [UInt8]([0xC0, 0x3F]).withUnsafeBytes { Dequantize.decode(.bf16, from: $0, count: 1) }
        #expect(d == [1.5])
    }
}

func findSubsequence(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard needle.count <= haystack.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
        if Array(haystack[i..<(i + needle.count)]) == needle { return i }
    }
    return nil
}
