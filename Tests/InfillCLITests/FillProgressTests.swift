import Foundation
import InfillProcessTestKit
import Testing
#if canImport(Glibc)
import Glibc
#endif

private let tinyModel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path

/// `infill fill`'s progress line: redrawn in place on a terminal (a pseudo-terminal here),
/// absent when stderr is a pipe or with `--quiet`.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: tinyModel), "Tests/Fixtures/tiny-llama.gguf is missing"))
struct FillProgressTests {
    static let template = "# Note\n\n{{intro}}\n\nMiddle.\n\n{{body}}\n"
    static let pipeline = """
        name: p
        sampling: { steps: 48, seed: 2 }
        fields:
          intro: { tokens: 20-30 }
          body: { tokens: 20-30 }
        """

    func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infill-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Self.template.write(to: dir.appendingPathComponent("note.md"), atomically: true, encoding: .utf8)
        try Self.pipeline.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Runs `infill ARGS` with stderr on a pseudo-terminal; returns the exit status, stdout and
    /// what the terminal received.
    func runOnTerminal(_ arguments: [String], in dir: URL) throws -> (status: Int32, stdout: String, terminal: String) {
        var master: Int32 = -1, slave: Int32 = -1
        var size = winsize(ws_row: 24, ws_col: 200, ws_xpixel: 0, ws_ypixel: 0)
        try #require(openpty(&master, &slave, nil, nil, &size) == 0)
        let process = Process()
        process.executableURL = infillBinary()
        process.arguments = arguments
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        try process.run()
        close(slave)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
            if n <= 0 { break }  // EIO once the child closed its end
            received += buffer[0..<n]
        }
        close(master)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: received, as: UTF8.self))
    }

    @Test func progressIsRedrawnInPlaceOnATerminal() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let arguments = ["fill", "note.md", "--pipeline", "p.yaml", "--model", tinyModel]
        let run = try runOnTerminal(arguments, in: dir)
        #expect(run.status == 0, "\(run.terminal)")
        let redraws = run.terminal.components(separatedBy: "\r\u{1B}[K").count - 1
        #expect(redraws >= 2, "\(run.terminal.debugDescription)")
        #expect(run.terminal.contains("infill: step "))
        #expect(run.terminal.contains("fields 0/2"))
        #expect(run.terminal.contains("forward passes"))
        #expect(run.terminal.contains("intro, body"))
        #expect(run.terminal.contains("ETA "))
        // The line is erased before the summary, which stays.
        #expect(run.terminal.contains("\r\u{1B}[Kinfill: filled 2 field(s)"))
        // The document on stdout is what a run without a terminal gives.
        let piped = try runInfill(arguments, currentDirectory: dir)
        #expect(piped.status == 0)
        #expect(piped.stdout == run.stdout)
        #expect(!piped.stderr.contains("\u{1B}["))
        #expect(!piped.stderr.contains("step "))
        #expect(piped.stderr.hasPrefix("infill: filled 2 field(s)"))
    }

    @Test func quietPrintsNothingOnTheTerminal() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runOnTerminal(["fill", "note.md", "--pipeline", "p.yaml", "--model", tinyModel, "--quiet"], in: dir)
        #expect(run.status == 0)
        #expect(run.terminal.isEmpty, "\(run.terminal.debugDescription)")
        #expect(run.stdout.hasPrefix("# Note\n\n"))
    }
}
