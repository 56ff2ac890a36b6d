import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP response, as a test reads it.
struct HTTPReply {
    var status: Int
    var contentType: String
    var body: String
}

/// `GET http://ADDRESS/PATH` on the loopback, with a short timeout.
func httpGet(_ address: String, _ path: String) async throws -> HTTPReply {
    guard let url = URL(string: "http://\(address)\(path)") else { throw URLError(.badURL) }
    var request = URLRequest(url: url)
    request.timeoutInterval = 60
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    return HTTPReply(
        status: http?.statusCode ?? 0,
        contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "",
        body: String(decoding: data, as: UTF8.self))
}

/// `GET PATH` over the Unix socket at `socketPath` (HTTP/1.1, `Connection: close`); returns the
/// status code and the body.
///
/// The blocking socket calls run on a thread of their own: on two cores the cooperative pool has
/// two threads, and `/status` needs one of them to answer, so waiting on one would starve it.
func unixSocketGet(_ socketPath: String, _ path: String) async throws -> (status: Int, body: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try blockingUnixSocketGet(socketPath, path) })
        }
    }
}

private func blockingUnixSocketGet(_ socketPath: String, _ path: String) throws -> (status: Int, body: String) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8)) }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += buffer[0..<n]
    }
    let text = String(decoding: received, as: UTF8.self)
    let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}
