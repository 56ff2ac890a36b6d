import ArgumentParser
import Foundation
import InfillModel

/// `infill model forward`: the logits of the last position of a text, for parity checks.
struct ModelForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward", abstract: "Run one forward pass and print the top logits of the last position.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "The input text (encoded without added special tokens; special-token text is recognised).")
    var text: String

    @Option(help: "Attention: causal or bidirectional.")
    var attention: String = "causal"

    @Option(help: ArgumentHelp(
        "With --model default: merge the diffusion adapter: auto (only for bidirectional attention), on or off.",
        discussion: "Causal attention probes the autoregressive base model, so by default it runs without the adapter."))
    var adapter: String = "auto"

    @Option(help: "How many of the highest logits to print.")
    var top: Int = 10

    @Flag(help: "Print JSON: {\"tokens\":[…],\"top\":[{\"id\":N,\"token\":\"…\",\"logit\":X},…]}.")
    var json = false

    struct Output: Encodable {
        struct Entry: Encodable {
            var id: Int32
            var token: String
            var logit: Float
        }
        var tokens: [Int32]
        var top: [Entry]
    }

    func run() async throws {
        guard let mode = AttentionMode(rawValue: attention) else {
            throw CLIError.usage("--attention must be 'causal' or 'bidirectional', not '\(attention)'")
        }
        guard top >= 1 else { throw CLIError.usage("--top must be at least 1") }
        let merge: Bool
        switch adapter {
        case "auto": merge = mode == .bidirectional
        case "on": merge = true
        case "off": merge = false
        default: throw CLIError.usage("--adapter must be 'auto', 'on' or 'off', not '\(adapter)'")
        }
        let result = try modelOptions.loadDetailed(mergeAdapter: merge)
        let tokenizer = result.loaded.tokenizer
        let tokens = tokenizer.encode(text, parseSpecial: true)
        guard !tokens.isEmpty else { throw CLIError.usage("--text encodes to no tokens") }
        let logits: [LogitMatrix]
        do {
            logits = try result.model.transformer.logits(sequences: [tokens], outputRows: [[tokens.count - 1]], attention: mode)
        } catch let error as ForwardError {
            throw CLIError.usage(error.description)
        }
        let row = Array(logits[0][row: 0])
        let best = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(top)
        let output = Output(
            tokens: tokens,
            top: best.map { Output.Entry(id: Int32($0), token: tokenizer.decode([Int32($0)], skipSpecial: false), logit: row[$0]) })
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print("tokens: \(tokens.map(String.init).joined(separator: " "))")
            for entry in output.top {
                print(String(format: "%8d  %12.6f  ", entry.id, entry.logit) + entry.token.debugDescription)
            }
        }
    }
}
