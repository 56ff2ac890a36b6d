import ArgumentParser
import Foundation
import InfillModel

/// `infill model forward`: the logits at one position of a text (the last by default), raw or as
/// the denoiser reads them, for parity checks.
struct ModelForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Run one forward pass and print the top logits of the last position.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The input text (encoded without added special tokens; special-token text is recognised).")
    var text: String?

    @Option(help: "The input as token ids instead of --text, comma-separated (e.g. 281,260,3,80).")
    var tokens: String?

    @Option(help: ArgumentHelp(
        "Attention: causal or bidirectional.",
        discussion: "Default: bidirectional for Dream and LLaDA (they are trained so), causal for other models (the base model as an AR model)."))
    var attention: String?

    @Option(help: ArgumentHelp(
        "With --model default: merge the diffusion adapter: auto (only for bidirectional attention), on or off.",
        discussion: "Causal attention probes the autoregressive base model, so by default it runs without the adapter."))
    var adapter: String = "auto"

    @Option(help: "How many of the highest logits to print.")
    var top: Int = 10

    @Option(help: "The canvas position to read (default: the last).")
    var position: Int?

    @Flag(help: ArgumentHelp(
        "Print the denoiser's distribution of the token at --position (the model's logit shift applied: Dream and the default model read output position − 1, LLaDA its own).",
        discussion: "Without it the raw output row at --position is printed (the next-token head)."))
    var denoise = false

    @Flag(help: "Print JSON: {\"tokens\":[…],\"top\":[{\"id\":N,\"token\":\"…\",\"logit\":X},…]}.")
    var json = false

    struct Output: Encodable {
        struct Entry: Encodable {
            var id: Int32
            var token: String
            var logit: Float
        }
        var tokens: [Int32]
        /// The canvas position read, and the output row its logits came from.
        var position: Int
        var row: Int
        var top: [Entry]
    }

    func run() async throws {
        let requested = try attention.map { name in
            guard let mode = AttentionMode(rawValue: name) else {
                throw CLIError.usage("--attention must be 'causal' or 'bidirectional', not '\(name)'")
            }
            return mode
        }
        guard top >= 1 else { throw CLIError.usage("--top must be at least 1") }
        let merge: Bool
        switch adapter {
        case "auto": merge = requested == .bidirectional || denoise
        case "on": merge = true
        case "off": merge = false
        default: throw CLIError.usage("--adapter must be 'auto', 'on' or 'off', not '\(adapter)'")
        }
        let result = try modelOptions.loadDetailed(mergeAdapter: merge)
        let family = ModelFamily(rawValue: result.description.config.architecture)
        let mode = requested ?? (family?.isDiffusion == true ? .bidirectional : .causal)
        let tokenizer = result.loaded.tokenizer
        let tokens: [TokenID]
        switch (text, self.tokens) {
        case (let text?, nil):
            tokens = tokenizer.encode(text, parseSpecial: true)
            guard !tokens.isEmpty else { throw CLIError.usage("--text encodes to no tokens") }
        case (nil, let list?):
            let parsed = list.split(separator: ",").map { TokenID($0.trimmingCharacters(in: .whitespaces)) }
            let ids = parsed.compactMap { $0 }
            guard !ids.isEmpty, ids.count == parsed.count else {
                throw CLIError.usage("--tokens must be comma-separated token ids, not '\(list)'")
            }
            tokens = ids
        default:
            throw CLIError.usage("give exactly one of --text and --tokens")
        }
        let position = position ?? tokens.count - 1
        guard (0..<tokens.count).contains(position) else {
            throw CLIError.usage("--position \(position) is outside the \(tokens.count) tokens of --text")
        }
        let logits: [LogitMatrix]
        let outputRow: Int
        do {
            if denoise {
                // The sampler's view: the model applies its own shift and attention.
                logits = try result.model.predict([PredictionRequest(tokens: tokens, positions: [position])])
                outputRow = result.model.logitShift ? max(position - 1, 0) : position
            } else {
                logits = try result.model.transformer.logits(sequences: [tokens], outputRows: [[position]], attention: mode)
                outputRow = position
            }
        } catch let error as ForwardError {
            throw CLIError.usage(error.description)
        }
        let row = Array(logits[0][row: 0])
        let best = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(top)
        let output = Output(
            tokens: tokens, position: position, row: outputRow,
            top: best.map { Output.Entry(id: Int32($0), token: tokenizer.decode([Int32($0)], skipSpecial: false), logit: row[$0]) })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print("tokens: \(tokens.map(String.init).joined(separator: " "))")
            print("position \(position), output row \(outputRow)\(denoise ? " (denoiser)" : "")")
            for entry in output.top {
                print(String(format: "%8d  %12.6f  ", entry.id, entry.logit) + entry.token.debugDescription)
            }
        }
    }
}
