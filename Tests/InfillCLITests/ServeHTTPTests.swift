import InfillProcessTestKit
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `infill serve` with `http:` on: the built binary on the tiny fixture model, scraped over the
/// loopback while it fills a burst.
@Suite(.serialized) struct ServeHTTPTests {
    /// The `HOST:PORT` the daemon logged once its endpoint was bound (port 0 asks for a free one).
    static func listeningAddress(_ daemon: ServeProcess, _ sandbox: ServeSandbox) -> String? {
        var address: String?
        _ = sandbox.eventually(20) {
            guard let line = daemon.log.split(separator: "\n").first(where: { $0.contains("http endpoint listening") }),
                  let range = line.range(of: #"address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression)
            else { return false }
            address = String(line[range].dropFirst("address=".count))
            return true
        }
        return address
    }

    @Test func burstIsScrapedOverLoopback() throws {
        let sandbox = try ServeSandbox(steps: 48, tokens: "24-32")
        try sandbox.write("infill.yaml", (sandbox.read("infill.yaml") ?? "") + "http: 127.0.0.1:0\n")
        // One long document, so a scrape finds a worker mid-canvas even on a loaded machine.
        try sandbox.write("pipelines/slow.yaml", """
            name: slow
            match: "*.slow.md"
            output: { name: "{stem}.md", report: true }
            sampling: { steps: 240, seed: 3 }
            fields:
              body: { tokens: 100-120 }

            """)
        let daemon = try sandbox.start()
        let address = try #require(Self.listeningAddress(daemon, sandbox), "\(daemon.log)")
        try sandbox.drop("long.slow.md", ServeSandbox.template(99))
        for index in 0..<12 {
            try sandbox.drop("doc\(index).note.md", index % 6 == 5 ? ServeSandbox.malformed : ServeSandbox.template(index))
        }
        // While it fills: a worker on a document, its field, step and ETA.
        var document: [String: Any] = [:]
        var status: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let reply = try httpGet(address, "/status")
            status = (try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]) ?? [:]
            let workers = status["workers"] as? [[String: Any]] ?? []
            if let busy = workers.compactMap({ $0["document"] as? [String: Any] }).first(where: { ($0["step"] as? Int ?? 0) > 0 }) {
                document = busy
                break
            }
            usleep(20_000)
        }
        #expect(document["fields"] as? [String] == ["body"], "\(status)")
        #expect(["note", "slow"].contains(document["pipeline"] as? String ?? ""))
        #expect((document["total_steps"] as? Int ?? 0) > 0)
        #expect(document["eta_seconds"] is Double)
        #expect((status["workers"] as? [Any])?.count == 2)
        let during = try httpGet(address, "/metrics").body
        #expect(sample(during, "infill_workers") == 2)

        var text = ""
        let end = Date().addingTimeInterval(120)
        while Date() < end {
            text = try httpGet(address, "/metrics").body
            if sample(text, #"infill_documents_total{result="done"}"#) == 11,
               sample(text, #"infill_documents_total{result="failed"}"#) == 2 { break }
            usleep(50_000)
        }
        #expect(sample(text, #"infill_documents_total{result="done"}"#) == 11, "\(text)\n\(daemon.log)")
        #expect(sample(text, #"infill_documents_total{result="failed"}"#) == 2)
        #expect(sample(text, "infill_document_seconds_count") == 11)
        #expect((sample(text, "infill_forward_passes_total") ?? 0) >= 10)
        #expect((sample(text, "infill_model_load_seconds") ?? -1) >= 0)
        let version = try runInfill(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty)
        #expect(sample(text, "infill_build_info{version=\"\(version)\",model=\"tiny-llama\",adapter=\"none\"}") == 1)
        let health = try httpGet(address, "/healthz")
        #expect(health.status == 200 && health.body == "ok\n")
        daemon.signal(SIGTERM)
        #expect(daemon.wait() == 0, "\(daemon.log)")
        #expect(sandbox.outputs.count == 11)
    }

    @Test func aTakenPortStopsTheStartWithOneLine() throws {
        let first = try ServeSandbox()
        try first.write("infill.yaml", (first.read("infill.yaml") ?? "") + "http: 127.0.0.1:0\n")
        let holder = try first.start()
        let address = try #require(Self.listeningAddress(holder, first), "\(holder.log)")
        let second = try ServeSandbox()
        let clash = try second.start(["--http", address])
        #expect(clash.wait(seconds: 60) == 2, "\(clash.log)")
        #expect(clash.log.contains("the HTTP endpoint on \(address) failed"), "\(clash.log)")
        holder.signal(SIGTERM)
        #expect(holder.wait() == 0)
    }

    @Test func aBadAddressIsAConfigurationError() throws {
        let sandbox = try ServeSandbox()
        try sandbox.write("infill.yaml", (sandbox.read("infill.yaml") ?? "") + "http: localhost:nope\n")
        let run = try runInfill(["serve", "--config", sandbox.path("infill.yaml"), "--once"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("infill.yaml:11"), "\(run.stderr)")
        #expect(run.stderr.contains("HOST:PORT"))
        let clean = try ServeSandbox()
        let flag = try runInfill(["serve", "--config", clean.path("infill.yaml"), "--once", "--http", "x:y"])
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("--http must be HOST:PORT"), "\(flag.stderr)")
    }
}
