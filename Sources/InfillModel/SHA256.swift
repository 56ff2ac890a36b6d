import Crypto
import Foundation

/// SHA-256, streaming, so model files can be verified: swift-crypto's `SHA256` (BoringSSL on
/// Linux, CryptoKit on Apple platforms) behind the hex helpers the model fetcher uses.
public struct SHA256: Sendable {
    private var hasher = Crypto.SHA256()

    public init() {}

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
    }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: some Collection<UInt8>) {
        hasher.update(data: Array(bytes))
    }

    /// The digest of everything added so far, as 32 bytes.
    public func finalize() -> [UInt8] {
        Array(hasher.finalize())
    }

    /// The digest as lower-case hex.
    public func hexDigest() -> String {
        finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The lower-case hex SHA-256 of `bytes`.
    public static func hex(of bytes: some Collection<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.hexDigest()
    }

    /// The lower-case hex SHA-256 of a file, read in 4 MiB chunks.
    public static func hex(ofFileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.hexDigest()
    }
}
