import ArgumentParser
import Foundation
import InfillModel

/// `infill model info`: architecture, sizes, parameters, storage types, tokenizer, source, adapter.
struct ModelInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show the loaded model: architecture, sizes, tokenizer, source and adapter.")

    @OptionGroup var modelOptions: ModelOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        let result = try modelOptions.loadDetailed()
        let d = result.description, c = d.config
        let types = d.storageTypes.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        let adapter: String
        if let manifest = d.adapter, let folder = d.adapterFolder {
            adapter = "\(manifest.name) (\(folder)): rank \(manifest.rank), alpha \(manifest.alpha), \(d.mergedPairs) LoRA pairs merged, \(manifest.trainingTokens ?? 0) training tokens"
        } else {
            adapter = "none"
        }
        let fields: [(String, String)] = [
            ("name", d.name),
            ("source", d.source),
            ("format", d.format),
            ("architecture", c.architecture),
            ("parameters", String(c.parameterCount)),
            ("vocabulary", String(c.vocabularySize)),
            ("hidden", String(c.hiddenSize)),
            ("intermediate", String(c.intermediateSize)),
            ("layers", String(c.layerCount)),
            ("heads", "\(c.headCount) (key/value \(c.kvHeadCount), dimension \(c.headDimension))"),
            ("rope_theta", String(c.ropeTheta)),
            ("context", String(c.contextLength)),
            ("output_head", c.tiedEmbeddings ? "tied to the embedding" : "separate"),
            ("qkv_bias", String(c.attentionBias)),
            ("storage", types),
            ("weights", "\(d.weightStorage.rawValue), \(MemoryBudget.gib(d.weightBytes))"),
            ("tokenizer", d.tokenizer),
            ("adapter", adapter),
            ("attention", d.attention.rawValue),
            ("logit_shift", String(d.logitShift)),
            ("mask_token", "\(d.maskTokenID) \(result.loaded.tokenizer.decode([d.maskTokenID], skipSpecial: false).debugDescription)"),
            ("null_token", "\(d.nullTokenID) \(result.loaded.tokenizer.decode([d.nullTokenID], skipSpecial: false).debugDescription)"),
            ("end_tokens", d.endTokenIDs.map { "\($0) \(result.loaded.tokenizer.decode([$0], skipSpecial: false).debugDescription)" }
                .joined(separator: ", ")),
            ("chat_template", d.chatTemplate.summary),
            ("instructions", d.instructionLayout.rawValue),
            ("load_seconds", String(format: "%.2f", d.loadSeconds)),
        ]
        if json {
            var object: [String: Any] = [:]
            for (k, v) in fields { object[k] = v }
            object["parameters"] = c.parameterCount
            object["layers"] = c.layerCount
            object["vocabulary"] = c.vocabularySize
            object["storage"] = d.storageTypes
            object["end_token_ids"] = d.endTokenIDs.map(Int.init)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for (k, v) in fields { print("\(k.padding(toLength: 14, withPad: " ", startingAt: 0)) \(v)") }
        }
    }
}
