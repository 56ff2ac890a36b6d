import Foundation
import Synchronization
import InfillService

/// A ``DocumentProcessor`` test double with a tiny, real document format, so the spool, pool and
/// lifecycle are tested without a model:
/// - the output is the input upper-cased, named `STEM.out` (pipeline `upper`), or for names ending
///   `.b` the input reversed (pipeline `reverse`);
/// - a line `FAIL` fails permanently at that line; `TRANSIENT n` fails transiently on the first
///   n attempts; `SLOW ms` sleeps that long (in 10 ms slices, stopping early when unwanted);
/// - the report is one line, `{"KEY":"NAME"}` (``reportKey``: `document` unless told);
/// - `reload()` fails while ``brokenSpec`` is set.
///
/// The one double of the daemon's seam for the spool and shared-queue tests.
package final class EchoProcessor: DocumentProcessor {
    /// Calls of ``process(name:contents:progress:)`` per document name.
    package let attempts = Mutex<[String: Int]>([:])
    /// Document names in the order processing began.
    package let order = Mutex<[String]>([])
    /// While true, ``reload()`` fails as a broken pipeline spec would.
    package let brokenSpec = Atomic<Bool>(false)
    /// Successful reloads so far.
    package let reloads = Atomic<Int>(0)
    /// Documents being processed now, and the most at once so far.
    package let concurrent = Atomic<Int>(0)
    package let maxConcurrent = Atomic<Int>(0)
    /// Called at the start of every ``process(name:contents:progress:)``, on the worker's thread.
    let onProcess: @Sendable (String) -> Void
    /// The report's one key (the queue tests read `name`).
    let reportKey: String

    package init(reportKey: String = "document", onProcess: @escaping @Sendable (String) -> Void = { _ in }) {
        self.reportKey = reportKey
        self.onProcess = onProcess
    }

    package func pipelineName(forFileNamed name: String) -> String {
        name.hasSuffix(".b") ? "reverse" : "upper"
    }

    package func process(name: String, contents: [UInt8], progress: DocumentProgressHandler) throws -> ProcessedDocument {
        onProcess(name)
        let now = concurrent.add(1, ordering: .relaxed).newValue
        defer { concurrent.subtract(1, ordering: .relaxed) }
        while true {
            let seen = maxConcurrent.load(ordering: .relaxed)
            if now <= seen || maxConcurrent.compareExchange(expected: seen, desired: now, ordering: .relaxed).exchanged { break }
        }
        order.withLock { $0.append(name) }
        let attempt = attempts.withLock { counts -> Int in
            counts[name, default: 0] += 1
            return counts[name]!
        }
        let text = String(decoding: contents, as: UTF8.self)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(separator: " ")
            if words.first == "FAIL" {
                throw DocumentFailure(message: "this document asks to fail", file: name, line: index + 1, column: 1,
                                      hint: "remove the FAIL line")
            }
            if words.first == "TRANSIENT", words.count == 2, let times = Int(words[1]), attempt <= times {
                throw DocumentFailure(message: "temporarily unavailable", file: name, isPermanent: false)
            }
            if words.first == "SLOW", words.count == 2, let milliseconds = Int(words[1]) {
                var slept = 0
                while slept < milliseconds && progress.isWanted {
                    usleep(10_000)
                    slept += 10
                    progress.step(slept, of: milliseconds)
                }
            }
        }
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        let body = pipelineName(forFileNamed: name) == "reverse" ? String(text.reversed()) : text.uppercased()
        return ProcessedDocument(
            outputName: stem + ".out", document: Array(body.utf8),
            report: Array("{\"\(reportKey)\":\"\(name)\"}\n".utf8), pipeline: pipelineName(forFileNamed: name))
    }

    package func reload() throws -> String {
        if brokenSpec.load(ordering: .relaxed) {
            throw DocumentFailure(message: "unknown key 'feilds'", file: "pipelines/a.yaml", line: 3, column: 1,
                                  hint: "did you mean 'fields'?")
        }
        return "\(reloads.add(1, ordering: .relaxed).newValue) reloads"
    }
}
