import Foundation

/// An independent fluency judge in its own process (`infill bench --quality --judge`).
///
/// ``FluencyJudge`` is Infill's own AR parent, which wrote the baseline and guides the sampler,
/// so it favours text in its own style. This judge is any command that speaks the line protocol
/// of `tools/judge/judge.cpp` — `tools/judge/build.sh` builds one on llama.cpp with Gemma 3 270M,
/// a model of another family with its own tokenizer. For every field it reports how likely the
/// field's text is after the document before it, and how likely the literal text after the
/// field then is: a fill that does not fit what follows it makes the following text less likely.
package struct ExternalJudge: Sendable {
    /// What the judge is asked about one field.
    package struct Request: Sendable {
        package var context: String
        package var text: String
        package var after: String

        package init(context: String, text: String, after: String) {
            self.context = context
            self.text = text
            self.after = after
        }
    }

    /// The judge's answer: summed NLL (nats) and token counts, in the judge's own tokens.
    package struct Score: Sendable, Equatable {
        package var textNLL: Double
        package var textTokens: Int
        package var afterNLL: Double
        package var afterTokens: Int

        /// Mean NLL per token over the field and the text after it (nil when both are empty).
        package var stretchNLL: Double? {
            textTokens + afterTokens == 0 ? nil : (textNLL + afterNLL) / Double(textTokens + afterTokens)
        }
    }

    /// The command and its arguments, e.g. `["cache/judge/llama-judge", "cache/judge/gemma-3-270m-q4_k_m.gguf"]`.
    package var command: [String]

    package init(command: [String]) {
        self.command = command
    }

    /// Parses `--judge`'s value: a command line split at spaces.
    package init(commandLine: String) throws {
        let words = commandLine.split(separator: " ").map(String.init)
        guard let first = words.first else { throw BenchUsageError("--judge needs a command, e.g. \"$(tools/judge/build.sh)\"") }
        guard FileManager.default.isExecutableFile(atPath: first) else {
            throw BenchUsageError("--judge: \(first) is not an executable (tools/judge/build.sh builds one)")
        }
        self.init(command: words)
    }

    /// Scores every request in one run of the judge, answers in request order.
    package func score(_ requests: [Request]) throws -> [Score] {
        guard let executable = command.first else { throw BenchUsageError("--judge needs a command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst())
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        // A judge that exits early (a bad model path) must give an error here, not kill this
        // process with SIGPIPE on the next write.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        var payload = ""
        for r in requests {
            payload += Self.escape(r.context) + "\t" + Self.escape(r.text) + "\t" + Self.escape(r.after) + "\n"
        }
        payload += "\n"
        // Written from another thread: the judge answers while it reads, and both pipes are finite.
        let writer = input.fileHandleForWriting
        let bytes = Data(payload.utf8)
        let written = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? writer.write(contentsOf: bytes)
            try? writer.close()
            written.signal()
        }
        let answer = output.fileHandleForReading.readDataToEndOfFile()
        let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
        written.wait()
        process.waitUntilExit()
        let lines = String(decoding: answer, as: UTF8.self).split(separator: "\n")
        guard process.terminationStatus == 0, lines.count == requests.count else {
            throw BenchUsageError("--judge \(executable) failed (exit \(process.terminationStatus), \(lines.count) of \(requests.count) answers): "
                                  + String(decoding: diagnostics, as: UTF8.self).suffix(300))
        }
        return try lines.enumerated().map { i, line in
            let parts = line.split(separator: "\t")
            guard parts.count == 4, let t = Double(parts[0]), let tn = Int(parts[1]), let a = Double(parts[2]), let an = Int(parts[3]) else {
                throw BenchUsageError("--judge \(executable): answer \(i + 1) is not 'NLL\\tTOKENS\\tNLL\\tTOKENS': \(line.prefix(80))")
            }
            return Score(textNLL: t, textTokens: tn, afterNLL: a, afterTokens: an)
        }
    }

    /// Backslash, tab and newline as backslash pairs (the protocol's one escape).
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
