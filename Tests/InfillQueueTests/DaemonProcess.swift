import Foundation
import InfillProcessTestKit
#if canImport(Glibc)
import Glibc
#endif

/// The engine's tiny fixture model (Tests/Fixtures/tiny-llama.gguf).
let tinyModel: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures/tiny-llama.gguf").path

/// `infill ARGS` running in the background; its stderr goes to a file, so a chatty daemon never
/// blocks on a full pipe.
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(_ arguments: [String], directory: String) throws {
        logPath = directory + "/.daemon-\(UUID().uuidString.prefix(6)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = infillBinary()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = process.standardOutput
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var pid: Int32 { process.processIdentifier }

    var log: String { FileManager.default.contents(atPath: logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit (up to `seconds`, then SIGKILL) and returns the exit status.
    @discardableResult
    func wait(seconds: Double = 60) async -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            return -9
        }
        return process.terminationStatus
    }
}
