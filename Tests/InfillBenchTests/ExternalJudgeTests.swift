import Foundation
@testable import InfillBench
@testable import InfillDocuments
import Testing

/// The independent judge's line protocol, against a stand-in judge that answers with lengths.
@Suite struct ExternalJudgeTests {
    /// A judge that scores each part by its length in Unicode scalars after unescaping, so the
    /// answers show that every request arrived whole, in order, with its tabs and line breaks.
    static func lengthJudge() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("length-judge-\(UUID().uuidString).py").path
        let script = #"""
            #!/usr/bin/env python3
            import sys
            def unescape(s):
                out, i = [], 0
                while i < len(s):
                    if s[i] == "\\" and i + 1 < len(s):
                        c = s[i + 1]; out.append("\n" if c == "n" else "\t" if c == "t" else c); i += 2
                    else:
                        out.append(s[i]); i += 1
                return "".join(out)
            for line in sys.stdin:
                line = line.rstrip("\n")
                if not line: break
                context, text, after = (unescape(p) for p in line.split("\t"))
                print(f"{len(text) * 0.5}\t{len(text)}\t{float(len(context))}\t{len(after)}", flush=True)
            """#
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    @Test func requestsArriveWholeAndAnswersComeBackInOrder() throws {
        let judge = try ExternalJudge(commandLine: try Self.lengthJudge())
        let requests = (0..<300).map { i in
            ExternalJudge.Request(context: "# Title\n\nTab\there \\ back\(i)", text: String(repeating: "é", count: i % 7) + "\nx",
                                  after: "\n\n## Next")
        }
        let scores = try judge.score(requests)
        #expect(scores.count == 300)
        for (r, s) in zip(requests, scores) {
            #expect(s.textTokens == r.text.unicodeScalars.count)
            #expect(s.textNLL == Double(r.text.unicodeScalars.count) * 0.5)
            #expect(s.afterNLL == Double(r.context.unicodeScalars.count))
            #expect(s.afterTokens == r.after.unicodeScalars.count)
        }
    }

    @Test func aFailingOrMissingJudgeIsOneClearError() throws {
        #expect(throws: BenchUsageError.self) { try ExternalJudge(commandLine: "/nonexistent/judge model.gguf") }
        #expect(throws: BenchUsageError.self) { try ExternalJudge(commandLine: "  ") }
        let failing = ExternalJudge(command: ["/bin/sh", "-c", "echo 'cannot load model.gguf' >&2; exit 1"])
        do {
            _ = try failing.score([ExternalJudge.Request(context: "a", text: "b", after: "c")])
            Issue.record("expected an error")
        } catch let error as BenchUsageError {
            #expect(error.description.contains("cannot load model.gguf"))
        }
        let garbled = ExternalJudge(command: ["/bin/sh", "-c", "cat >/dev/null; echo 'not numbers'"])
        #expect(throws: BenchUsageError.self) { try garbled.score([ExternalJudge.Request(context: "a", text: "b", after: "c")]) }
    }

    @Test func stretchNLLWeighsFieldAndFollowingTextByTokens() {
        let s = ExternalJudge.Score(textNLL: 6, textTokens: 2, afterNLL: 2, afterTokens: 2)
        #expect(s.stretchNLL == 2)
        #expect(ExternalJudge.Score(textNLL: 0, textTokens: 0, afterNLL: 0, afterTokens: 0).stretchNLL == nil)
    }

    @Test func judgedComparisonsPairTheSameFieldAndSeed() {
        func field(_ system: String, _ name: String, seed: UInt64, stretch: Double, readable: Bool = true) -> QualityBenchmark.Field {
            let quality = FieldQuality(words: 5, repetition: 0, filler: readable ? 0 : 0.5, stutters: false, copiesTemplate: false,
                                       unfinished: false, lengthOK: true, keywordsOK: true, avoidOK: true)
            return QualityBenchmark.Field(template: "t.md", field: name, system: system, seed: seed, text: "text", quality: quality,
                                          nll: 1, before: "", after: "",
                                          judged: ExternalJudge.Score(textNLL: stretch, textTokens: 1, afterNLL: 0, afterTokens: 0))
        }
        let report = QualityBenchmark.Report(fields: [
            field("human", "a", seed: 0, stretch: 3), field("human", "b", seed: 0, stretch: 2),
            field("diffusion", "a", seed: 0, stretch: 2), field("diffusion", "b", seed: 0, stretch: 2.5),
            field("diffusion", "a", seed: 1, stretch: 1, readable: false),
            field("ar", "a", seed: 0, stretch: 2.5), field("ar", "b", seed: 0, stretch: 1), field("ar", "a", seed: 1, stretch: 4),
        ], documents: [])
        let wins = report.judgedWins("diffusion", over: "ar")
        #expect(wins.pairs == 3)
        #expect(abs(wins.share - 2.0 / 3) < 1e-9)
        let summary = report.summary(system: "diffusion")
        // a/0 beats the human (2 ≤ 3), b/0 does not (2.5 > 2), a/1 is unreadable: one of three.
        #expect(abs(summary.judgedAsFluentAsHuman - 1.0 / 3) < 1e-9)
        #expect(abs(summary.judgeNLL - 5.5 / 3) < 1e-9)
        #expect(report.summary(system: "human").judgedAsFluentAsHuman == 1)
    }

    @Test func contextGainComparesTheFieldInItsDocumentWithTheFieldAlone() throws {
        // A stand-in judge that finds a text three times as likely-per-token with a document
        // before it: 1 nat per character in context, 2.5 alone (leading spaces dropped).
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("context-judge-\(UUID().uuidString).py").path
        try #"""
            #!/usr/bin/env python3
            import sys
            for line in sys.stdin:
                line = line.rstrip("\n")
                if not line: break
                context, text, after = line.split("\t")
                n = len(text)
                print(f"{n * (2.5 if context == '' else 1.0)}\t{n}\t0\t0", flush=True)
            """#.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        let quality = FieldQuality(words: 2, repetition: 0, filler: 0, stutters: false, copiesTemplate: false,
                                   unfinished: false, lengthOK: true, keywordsOK: true, avoidOK: true)
        var report = QualityBenchmark.Report(fields: [
            QualityBenchmark.Field(template: "t.md", field: "a", system: "diffusion", seed: 0, text: " abcd", quality: quality,
                                   nll: 1, before: "Dear team,", after: "\n"),
            QualityBenchmark.Field(template: "t.md", field: "b", system: "diffusion", seed: 0, text: "wxyz", quality: quality,
                                   nll: 1, before: "Hello", after: ""),
        ], documents: [])
        try report.judge(with: ExternalJudge(command: [path]))
        // In context " abcd" is 5 characters at 1 nat each; alone "abcd" is 4 at 2.5 (10 nats).
        #expect(report.fields[0].judged == ExternalJudge.Score(textNLL: 5, textTokens: 5, afterNLL: 0, afterTokens: 0))
        #expect(report.fields[0].judgedAlone == ExternalJudge.Score(textNLL: 10, textTokens: 4, afterNLL: 0, afterTokens: 0))
        #expect(report.fields[0].contextGain == 1.5)
        #expect(report.fields[1].contextGain == 1.5)
        #expect(report.summary(system: "diffusion").judgeContextGain == 1.5)
        #expect(QualityBenchmark.Report(fields: [], documents: []).summary(system: "diffusion").judgeContextGain.isNaN)
    }
}
