import Foundation
import Testing
@testable import InfillService

@Suite struct ConfigurationLoaderTests {
    @Test func emptyFileGivesTheDesignDefaults() throws {
        let configuration = try ConfigurationLoader.parse("", file: "infill.yaml")
        #expect(configuration == ServiceConfiguration())
        #expect(configuration.inbox == "./inbox")
        #expect(configuration.workers == 2)
        #expect(configuration.settleMilliseconds == 500)
        #expect(configuration.model == "default")
        #expect(configuration.watch == .inotify)
        #expect(configuration.maxInputBytes == 1 << 20)
        #expect(configuration.quarantineAfter == 3)
        #expect(configuration.layout.quarantine == "./.infill/quarantine")
    }

    @Test func inputLimitsAreBounded() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("max_input_bytes: 0\n", file: "infill.yaml")
        }
        #expect(error?.description == "infill.yaml:1:18: 'max_input_bytes' must be between 1 and 1073741824, not 0")
    }

    @Test func readsEveryKey() throws {
        let text = """
            inbox: /srv/in
            outbox: out
            failed: bad
            state: .st
            pipelines: specs
            workers: 3
            threads_per_worker: 2
            model: /models/x.gguf
            settle_ms: 0
            watch: poll
            rescan_ms: 250
            queue_limit: 7
            max_attempts: 2
            retry_backoff_ms: 10
            stop_timeout_s: 1.5
            keep_done: true
            log_level: debug
            max_input_bytes: 4096
            quarantine: held
            quarantine_after: 5
            document_timeout_s: 60
            """
        let c = try ConfigurationLoader.parse(text, file: "infill.yaml")
        #expect(c.maxInputBytes == 4096 && c.quarantine == "held" && c.quarantineAfter == 5)
        #expect(c.layout.quarantine == "held" && c.documentTimeoutSeconds == 60)
        #expect(c.inbox == "/srv/in" && c.outbox == "out" && c.failed == "bad" && c.state == ".st")
        #expect(c.pipelines == "specs" && c.workers == 3 && c.threadsPerWorker == 2 && c.model == "/models/x.gguf")
        #expect(c.settleMilliseconds == 0 && c.watch == .poll && c.rescanMilliseconds == 250)
        #expect(c.queueLimit == 7 && c.effectiveQueueLimit == 7 && c.maxAttempts == 2 && c.retryBackoffMilliseconds == 10)
        #expect(c.stopTimeoutSeconds == 1.5 && c.keepDone && c.logLevel == "debug")
    }

    @Test func unknownKeySuggestsTheClosestAndGivesThePosition() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("inbox: in\nworker: 3\n", file: "x.yaml")
        }
        #expect(error?.line == 2 && error?.column == 1)
        #expect(error?.description == "x.yaml:2:1: unknown key 'worker' (hint: did you mean 'workers'?)")
    }

    @Test(arguments: [
        ("workers: many\n", 1, 10, "'workers' must be a whole number, not 'many'"),
        ("workers: 0\n", 1, 10, "'workers' must be between 1 and 256, not 0"),
        ("\nsettle_ms: [1, 2]\n", 2, 12, "'settle_ms' must be a whole number, not a list"),
        ("keep_done: maybe\n", 1, 12, "'keep_done' must be true or false, not 'maybe'"),
        ("watch: inotfy\n", 1, 8, "'watch' must be inotify or poll, not 'inotfy'"),
        // The shared YAML reader points at the second occurrence, the one to remove.
        ("workers: 1\nworkers: 2\n", 2, 1, "duplicate key 'workers'"),
    ])
    func rejectsBadValuesAtTheirPosition(text: String, line: Int, column: Int, message: String) {
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(text, file: "c.yaml") }
        #expect(error?.line == line)
        #expect(error?.column == column)
        #expect(error?.message.hasPrefix(message) == true, "\(String(describing: error))")
    }

    @Test func brokenYAMLNamesItsPosition() {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("inbox: in\n  outbox: [\n", file: "c.yaml")
        }
        #expect(error?.line != nil)
        #expect(error?.message.hasPrefix("invalid YAML") == true)
    }

    @Test func topLevelListIsRejected() {
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse("- a\n- b\n", file: "c.yaml") }
        #expect(error?.message.contains("mapping") == true)
    }

    @Test func relativePathsFollowTheConfigFile() throws {
        let folder = TemporaryFolder()
        try folder.write("inbox: ./in\noutbox: /abs/out\nmodel: models/m.gguf\n", to: "infill.yaml")
        let c = try ConfigurationLoader.load(file: folder.path + "/infill.yaml")
        #expect(c.inbox == folder.path + "/in")
        #expect(c.outbox == "/abs/out")
        #expect(c.failed == folder.path + "/failed")
        #expect(c.model == folder.path + "/models/m.gguf")
    }

    @Test func missingFileIsOneClearError() {
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(file: "/nonexistent/infill.yaml") }
        #expect(error?.description.contains("/nonexistent/infill.yaml: cannot read the config file") == true)
    }
}

@Suite struct ShippedConfigurationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func exampleConfigStatesTheDefaults() throws {
        let text = try String(contentsOfFile: Self.repository + "/infill.example.yaml", encoding: .utf8)
        #expect(try ConfigurationLoader.parse(text, file: "infill.example.yaml") == ServiceConfiguration())
    }

    @Test func systemdConfigUsesAbsolutePaths() throws {
        let c = try ConfigurationLoader.load(file: Self.repository + "/systemd/infill.yaml")
        #expect(c.inbox == "/var/lib/infill/inbox" && c.state == "/var/lib/infill/state" && c.pipelines == "/etc/infill/pipelines")
    }
}
