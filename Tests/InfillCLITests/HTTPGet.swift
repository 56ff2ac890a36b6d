import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One HTTP response, as a test reads it (the same helper as InfillHTTPTests' HTTPGet.swift).
struct HTTPReply {
    var status: Int
    var contentType: String
    var body: String
}

/// `GET http://ADDRESS/PATH` on the loopback, with a short timeout.
func httpGet(_ address: String, _ path: String) async throws -> HTTPReply {
    guard let url = URL(string: "http://\(address)\(path)") else { throw URLError(.badURL) }
    var request = URLRequest(url: url)
    request.timeoutInterval = 10
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = response as? HTTPURLResponse
    return HTTPReply(
        status: http?.statusCode ?? 0,
        contentType: http?.value(forHTTPHeaderField: "Content-Type") ?? "",
        body: String(decoding: data, as: UTF8.self))
}

/// The value of an unlabeled or labeled sample in Prometheus text, such as
/// `infill_documents_total{result="done"}`; nil when absent.
func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        if parts.count == 2, parts[0] == series { return Double(parts[1]) }
    }
    return nil
}
