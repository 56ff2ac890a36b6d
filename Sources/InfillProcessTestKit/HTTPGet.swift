import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One HTTP response, as a test reads it.
package struct HTTPReply: Sendable {
    package var status: Int
    package var contentType: String
    package var body: String
}

/// `GET http://127.0.0.1:PORT/PATH`, blocking on a plain socket (HTTP/1.1, `Connection: close`).
///
/// Blocking on purpose: the CLI and queue tests wait synchronously (polling, not awaiting),
/// so they keep polling even while other suites' blocking waits hold Swift's few cooperative
/// threads, where an `await` could be starved.
package func httpGet(_ address: String, _ path: String) throws -> HTTPReply {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = UInt16(parts[1]) else { throw POSIXError(.EINVAL) }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var socketAddress = sockaddr_in()
    socketAddress.sin_family = sa_family_t(AF_INET)
    socketAddress.sin_port = port.bigEndian
    guard inet_pton(AF_INET, String(parts[0]), &socketAddress.sin_addr) == 1 else { throw POSIXError(.EINVAL) }
    let connected = withUnsafePointer(to: &socketAddress) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: \(address)\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { break }
        received += buffer[0..<n]
    }
    let text = String(decoding: received, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { return HTTPReply(status: 0, contentType: "", body: "") }
    let head = text[..<split.lowerBound].split(separator: "\r\n")
    let status = head.first?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    let contentType = head.first { $0.lowercased().hasPrefix("content-type:") }
        .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
    var body = String(text[split.upperBound...])
    if head.contains(where: { $0.lowercased() == "transfer-encoding: chunked" }) { body = dechunk(body) }
    return HTTPReply(status: status, contentType: contentType, body: body)
}

/// The body of a chunked response.
private func dechunk(_ text: String) -> String {
    var bytes = Substring(text)
    var out = ""
    while let line = bytes.range(of: "\r\n"), let size = Int(bytes[..<line.lowerBound], radix: 16), size > 0 {
        let start = line.upperBound
        let data = bytes[start...].utf8.prefix(size)
        out += String(decoding: data, as: UTF8.self)
        bytes = Substring(String(decoding: bytes[start...].utf8.dropFirst(size), as: UTF8.self)).dropFirst(2)
    }
    return out
}

/// The value of an unlabeled or labeled sample in Prometheus text, such as
/// `infill_documents_total{result="done"}`; nil when absent.
package func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        if parts.count == 2, parts[0] == series { return Double(parts[1]) }
    }
    return nil
}
