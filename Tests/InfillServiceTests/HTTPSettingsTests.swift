import Foundation
import Testing
@testable import InfillService

/// `http:` in infill.yaml, the address parser, and the progress fraction behind `/status`'s ETA.
struct HTTPSettingsTests {
    @Test func addressesParse() {
        #expect(HTTPAddress(parsing: "127.0.0.1:9464") == HTTPAddress(host: "127.0.0.1", port: 9464))
        #expect(HTTPAddress(parsing: "9464") == HTTPAddress(host: "127.0.0.1", port: 9464))
        #expect(HTTPAddress(parsing: "[::1]:80") == HTTPAddress(host: "::1", port: 80))
        #expect(HTTPAddress(parsing: "localhost:0") == HTTPAddress(host: "localhost", port: 0))
        #expect(HTTPAddress(parsing: "0.0.0.0:9464")?.isLoopback == false)
        #expect(HTTPAddress(parsing: "127.0.0.2:9464")?.isLoopback == true)
        #expect(HTTPAddress(parsing: "[::1]:9464")?.description == "[::1]:9464")
        #expect(HTTPAddress(parsing: "unix:/run/infill/http.sock") == HTTPAddress(unixSocket: "/run/infill/http.sock"))
        #expect(HTTPAddress(parsing: "unix:/run/infill/http.sock")?.isLoopback == true)
        #expect(HTTPAddress(parsing: "unix:/run/infill/http.sock")?.description == "unix:/run/infill/http.sock")
        for bad in ["unix:", "unix:/run/", "unix:/" + String(repeating: "a", count: 120), "", ":9464", "host:", "host:65536", "::1:9464", "[::1]", "a b:1", "host:-1", "host:12x"] {
            #expect(HTTPAddress(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func httpIsOffByDefaultAndReadFromTheConfig() throws {
        #expect(try ConfigurationLoader.parse("workers: 1\n", file: "infill.yaml").http == nil)
        #expect(try ConfigurationLoader.parse("http: 127.0.0.1:9464\n", file: "infill.yaml").http
                == HTTPAddress(host: "127.0.0.1", port: 9464))
        #expect(try ConfigurationLoader.parse("http: 9464\n", file: "infill.yaml").http?.host == "127.0.0.1")
        #expect(try ConfigurationLoader.parse("http: \"[::1]:9464\"\n", file: "infill.yaml").http?.host == "::1")
        #expect(try ConfigurationLoader.parse("http: off\n", file: "infill.yaml").http == nil)
        var relative = try ConfigurationLoader.parse("http: unix:run/http.sock\n", file: "infill.yaml")
        relative.resolvePaths(relativeTo: "/etc/infill")
        #expect(relative.http?.unixSocket == "/etc/infill/run/http.sock")
        #expect(try ConfigurationLoader.parse("http:\n", file: "infill.yaml").http == nil)
    }

    @Test func aBadHTTPAddressNamesItsLine() {
        #expect {
            try ConfigurationLoader.parse("workers: 1\nhttp: localhost:99999\n", file: "infill.yaml")
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.line == 2 && error?.description.contains("HOST:PORT") == true
        }
        #expect {
            try ConfigurationLoader.parse("htp: 9464\n", file: "infill.yaml")
        } throws: { error in
            (error as? ConfigurationError)?.description.contains("did you mean 'http'") == true
        }
    }

    @Test func progressFractionCountsFinishedFieldsAndTheCanvas() {
        #expect(DocumentProgress(step: 8, totalSteps: 32).fraction == 0.25)
        // 1 of 4 fields done, the current canvas (2 fields) half way: (1 + 0.5 * 2) / 4.
        let midway = DocumentProgress(fields: ["b", "c"], fieldsDone: 1, fieldsTotal: 4, step: 16, totalSteps: 32)
        #expect(midway.fraction == 0.5)
        #expect(DocumentProgress(step: 0, totalSteps: 0).fraction == 0)
    }

    @Test func statusDocumentEncodesItsProgressFlat() throws {
        let document = ServiceStatus.Document(
            name: "a.md", pipeline: "note", attempt: 1,
            progress: DocumentProgress(fields: ["s"], fieldsDone: 1, fieldsTotal: 4, step: 8, totalSteps: 32, forwardPasses: 9),
            elapsedSeconds: 2, etaSeconds: nil)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(document)) as? [String: Any])
        #expect(Set(object.keys) == ["name", "pipeline", "attempt", "fields", "fields_done", "fields_total", "step",
                                     "total_steps", "forward_passes", "fraction", "elapsed_seconds"])
        #expect(object["step"] as? Int == 8 && object["fields_done"] as? Int == 1 && object["forward_passes"] as? Int == 9)
        #expect(object["fraction"] as? Double == document.fraction)
    }

    @Test func boardGivesETAAndForwardPassDeltas() {
        let board = ProgressBoard()
        board.begin("a.md", worker: 1, pipeline: "note", attempt: 2, now: 0)
        #expect(board.snapshot(now: 1_000_000_000)[1]?.etaSeconds == nil)  // no step yet
        #expect(board.update("a.md", DocumentProgress(step: 8, totalSteps: 32, forwardPasses: 8)) == 8)
        #expect(board.update("a.md", DocumentProgress(step: 10, totalSteps: 32, forwardPasses: 10)) == 2)
        #expect(board.update("gone.md", DocumentProgress(step: 1, totalSteps: 2, forwardPasses: 1)) == 0)
        board.update("a.md", DocumentProgress(step: 8, totalSteps: 32, forwardPasses: 12))
        // A quarter done after 2 s: 6 s to go.
        let document = board.snapshot(now: 2_000_000_000)[1]
        #expect(document?.name == "a.md" && document?.attempt == 2 && document?.pipeline == "note")
        #expect(document?.etaSeconds == 6)
        #expect(board.describe(["a.md", "b.md"]) == ["a.md 8/32", "b.md"])
        board.remove("a.md")
        #expect(board.snapshot(now: 0).isEmpty)
    }
}
