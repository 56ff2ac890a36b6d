import Foundation
import Testing
@testable import InfillModel

@Suite struct AdapterAndLoaderTests {
    @Test func tinyAdapterMergesAndSetsDiffusionConventions() throws {
        let result = try ModelLoader.loadGGUF(
            path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: EngineFixtures.path("tiny-adapter"), name: nil)
        #expect(result.description.mergedPairs == 10)
        #expect(result.loaded.adapter == "tiny-adapter")
        #expect(result.model.attention == .bidirectional)
        #expect(result.model.logitShift)
        let base = try ModelLoader.loadGGUF(path: EngineFixtures.path("tiny-llama.gguf"), adapterFolder: nil, name: nil)
        #expect(result.model.transformer.weights.embedding.rowValues(3)[0] != base.model.transformer.weights.embedding.rowValues(3)[0])
        #expect(result.model.transformer.weights.embedding.rowValues(4)[0] == base.model.transformer.weights.embedding.rowValues(4)[0])
    }

    @Test func adapterThatDoesNotFitIsRejected() throws {
        // The tiny adapter's LoRA shapes against the qwen2 fixture (1 key/value head, not 2).
        let adapter = try LoRAAdapter(folder: EngineFixtures.path("tiny-adapter"))
        let qwen = try HFModelReader(folder: EngineFixtures.path("tiny-qwen2"))
        var set = try qwen.weights()
        #expect { try adapter.merge(into: &set, config: qwen.config) } throws: {
            ($0 as? ModelFileError)?.reason.contains("k_proj") == true
        }
    }

    @Test func badManifestNamesTheProblem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-adapter-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(#"{"name":"x","mask_token_id":3,"null_token_id":0,"logit_shift":true,"attention":"sideways","rank":4,"alpha":8}"#.utf8)
            .write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        #expect { try AdapterManifest.read(path: dir + "/manifest.json") } throws: {
            ($0 as? ModelFileError)?.reason.contains("sideways") == true
        }
        try Data(#"{"name":"x"}"#.utf8).write(to: URL(fileURLWithPath: dir + "/manifest.json"))
        #expect { try AdapterManifest.read(path: dir + "/manifest.json") } throws: {
            ($0 as? ModelFileError)?.reason.contains("missing key") == true
        }
    }

    @Test func tinyGGUFIsACompleteModel() throws {
        let result = try ModelLoader.load(EngineFixtures.path("tiny-llama.gguf"))
        let tokenizer = result.loaded.tokenizer
        #expect(tokenizer.vocabularySize == 400)
        #expect(tokenizer.specialTokenID("<empty_output>") == 3)
        #expect(tokenizer.specialTokenID("<|endoftext|>") == 0)
        let ids = tokenizer.encode("The capital of France is Paris.")
        #expect(tokenizer.decode(ids) == "The capital of France is Paris.")
        #expect(result.loaded.model.maskTokenID == 3)
        #expect(result.loaded.model.samplableVocabularySize == 400)
        #expect(result.description.tokenizer.contains("400 tokens"))
        let logits = try result.loaded.model.predict([PredictionRequest(tokens: ids + [3, 3], positions: [ids.count, ids.count + 1])])
        #expect(logits[0].rows == 2 && logits[0].width == 400)
    }

    @Test func hfFolderLoadsWithItsTokenizer() throws {
        let result = try ModelLoader.load(EngineFixtures.path("tiny-qwen2"))
        #expect(result.description.format.contains("2 shards"))
        #expect(result.loaded.tokenizer.encode("The capital").count > 0)
        #expect(result.model.nullTokenID == 0)
    }

    @Test func missingDefaultBaseModelSaysToFetch() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("infill-cache-\(UUID().uuidString)").path
        #expect { try ModelLoader.load("default", environment: ["INFILL_CACHE": empty]) } throws: {
            ($0 as? ModelFileError)?.reason.contains("infill model fetch") == true
        }
        #expect { try ModelLoader.load("/nonexistent/model.gguf") } throws: {
            ($0 as? ModelFileError)?.path == "/nonexistent/model.gguf"
        }
    }

    @Test func adapterFolderIsFoundFromTheEnvironment() {
        let found = ModelLoader.adapterFolder(environment: ["INFILL_ADAPTER": "/some/adapter"], executablePath: nil)
        #expect(found == "/some/adapter")
        let none = ModelLoader.adapterFolder(environment: [:], executablePath: "/nonexistent/bin/infill")
        #expect(none == nil || FileManager.default.fileExists(atPath: none! + "/manifest.json"))
    }

    @Test func theAdapterIsFoundFromASwiftPMBuildFolderOfTheCheckout() {
        let places = ModelLoader.adapterCandidates(executablePath: "/src/infill/.build/x86_64-unknown-linux-gnu/release/infill")
        #expect(places.contains("/src/infill/models/smollm2-135m-diffusion"))
        #expect(places.contains("/src/infill/.build/x86_64-unknown-linux-gnu/share/infill/models/smollm2-135m-diffusion"))
    }

    @Test func safetensorsTruncationAndCorruptionAreReported() throws {
        let name = "tiny-qwen2/model-00002-of-00002.safetensors"
        let bytes = EngineFixtures.bytes(name)
        for cut in [0, 4, 8, 100, bytes.count - 1] {
            let path = EngineFixtures.temporaryFile(Array(bytes[0..<cut]), name: "cut.safetensors")
            #expect(throws: ModelFileError.self) { try SafetensorsFile(path: path) }
        }
        var corrupt = bytes
        corrupt[8] = UInt8(ascii: "]")
        let path = EngineFixtures.temporaryFile(corrupt, name: "corrupt.safetensors")
        #expect { try SafetensorsFile(path: path) } throws: { ($0 as? ModelFileError)?.reason.contains("header") == true }
    }

    @Test func missingTensorIsNamed() throws {
        let reader = try HFModelReader(folder: EngineFixtures.path("tiny-qwen2"))
        var set = try reader.weights()
        set.matrices.removeValue(forKey: "model.layers.1.mlp.up_proj.weight")
        #expect { try TransformerWeights(fusing: set, config: reader.config) } throws: {
            ($0 as? ModelFileError)?.reason.contains("model.layers.1.mlp.up_proj.weight") == true
        }
    }
}
