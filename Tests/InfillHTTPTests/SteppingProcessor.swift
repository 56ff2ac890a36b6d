import Foundation
import InfillService
import Synchronization

/// A ``DocumentProcessor`` double that reports fields, steps and forward passes like the real
/// filler: each document is `STEPS MS` on its first line (that many steps, MS milliseconds each);
/// a line `FAIL` fails it permanently, `TRANSIENT` fails its first attempt transiently.
final class SteppingProcessor: DocumentProcessor {
    let attempts = Mutex<[String: Int]>([:])

    func pipelineName(forFileNamed name: String) -> String { "steps" }

    func process(name: String, contents: [UInt8], progress: DocumentProgressHandler) throws -> ProcessedDocument {
        let attempt = attempts.withLock { counts -> Int in
            counts[name, default: 0] += 1
            return counts[name, default: 1]
        }
        let text = String(decoding: contents, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        if lines.contains("FAIL") { throw DocumentFailure(message: "asked to fail", file: name, line: 2) }
        if lines.contains("TRANSIENT"), attempt == 1 {
            throw DocumentFailure(message: "temporarily unavailable", file: name, isPermanent: false)
        }
        let numbers = (lines.first ?? "").split(separator: " ").compactMap { Int($0) }
        let steps = numbers.first ?? 4, pause = numbers.count > 1 ? numbers[1] : 1
        for step in 1...max(1, steps) where progress.isWanted {
            usleep(useconds_t(pause * 1000))
            // Two fields in one canvas, one forward pass per step.
            progress.update(DocumentProgress(
                fields: ["intro", "body"], fieldsDone: 0, fieldsTotal: 2, step: step, totalSteps: steps, forwardPasses: step))
        }
        return ProcessedDocument(outputName: name + ".out", document: Array(text.uppercased().utf8), report: nil, pipeline: "steps")
    }

    func reload() throws -> String { "1 pipeline" }
}
