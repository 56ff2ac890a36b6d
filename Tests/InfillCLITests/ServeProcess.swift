import Foundation
import InfillProcessTestKit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A spool in a temporary folder with a small pipeline for the engine's tiny fixture model, and a
/// way to run `infill serve` on it in the background.
final class ServeSandbox: @unchecked Sendable {
    let root: String
    static let tinyModel: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tiny-llama.gguf").path
    }()

    /// `steps` and `tokens` set how long each document takes on the tiny model.
    init(steps: Int = 8, tokens: String = "6-12") throws {
        root = FileManager.default.temporaryDirectory.path + "/infill-serve-tests-" + UUID().uuidString
        for folder in ["inbox", "pipelines"] {
            try FileManager.default.createDirectory(atPath: root + "/" + folder, withIntermediateDirectories: true)
        }
        try write("pipelines/note.yaml", Self.pipeline(steps: steps, tokens: tokens))
        try write("infill.yaml", """
            inbox: inbox
            outbox: outbox
            failed: failed
            state: .infill
            pipelines: pipelines
            model: \(Self.tinyModel)
            workers: 2
            settle_ms: 100
            rescan_ms: 1000
            retry_backoff_ms: 50

            """)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static func pipeline(steps: Int, tokens: String) -> String {
        """
        name: note
        match: "*.note.md"
        output: { name: "{stem}.md", report: true }
        sampling: { steps: \(steps), seed: 3 }
        fields:
          body:
            tokens: \(tokens)

        """
    }

    /// A valid template; the last line marks a complete file.
    static func template(_ index: Int) -> String { "# Note \(index)\n\n{{body}}\n\nEnd of note \(index).\n" }
    /// A template with an error on line 3.
    static let malformed = "# Bad\n\n{{body | words: lots}}\n"

    func path(_ relative: String) -> String { root + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path(relative)))
    }

    /// Writes under a dotfile name, then renames into the inbox, as writers should.
    func drop(_ name: String, _ text: String) throws {
        try write("inbox/.\(name).part", text)
        guard rename(path("inbox/.\(name).part"), path("inbox/" + name)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: path(relative)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Visible file names in a folder.
    func names(_ relative: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(relative))) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Finished documents (reports excluded).
    var outputs: [String] { names("outbox").filter { !$0.hasSuffix(".report.json") } }

    /// Starts `infill serve --config infill.yaml ARGS` in the background.
    func start(_ arguments: [String] = [], environment extra: [String: String] = [:]) throws -> ServeProcess {
        try ServeProcess(arguments: ["serve", "--config", path("infill.yaml")] + arguments, directory: root, environment: extra)
    }

    /// Polls `condition` every 25 ms for up to `seconds`.
    func eventually(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(25_000)
        }
        return condition()
    }
}

/// `infill serve` running in the background; stderr goes to a file so a chatty daemon never blocks.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let logPath: String

    init(arguments: [String], directory: String, environment extra: [String: String]) throws {
        logPath = directory + "/.serve-\(UUID().uuidString.prefix(6)).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = infillBinary()
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var log: String { FileManager.default.contents(atPath: logPath).map { String(decoding: $0, as: UTF8.self) } ?? "" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit (up to `seconds`, then SIGKILL) and returns the exit status.
    @discardableResult
    func wait(seconds: Double = 30) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -9
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// A datagram socket standing in for systemd's notify socket, drained on its own thread.
final class NotifyListener: @unchecked Sendable {
    let path: String
    private let received = Mutex<[String]>([])
    private let open = Atomic<Bool>(true)

    init(path: String) throws {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw CocoaError(.fileWriteUnknown)
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while self.open.load(ordering: .relaxed) {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    let message = String(decoding: buffer[0..<n], as: UTF8.self)
                    self.received.withLock { $0.append(message) }
                }
            }
            close(fd)
        }
        thread.start()
    }

    deinit { open.store(false, ordering: .relaxed) }

    var messages: [String] { received.withLock { $0 } }
}
