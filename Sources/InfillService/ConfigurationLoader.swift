import Foundation
import InfillDiagnostics

/// Reads `infill.yaml` strictly through the shared YAML reader (`YAMLParsing`, the one pipelines and
/// templates use), so every error names its line and column:
/// unknown keys (with a "did you mean" suggestion), wrong types, out-of-range values, duplicates.
public enum ConfigurationLoader {
    /// The keys `infill.yaml` accepts.
    public static let keys = [
        "inbox", "outbox", "failed", "state", "pipelines", "workers", "threads_per_worker", "model",
        "settle_ms", "watch", "rescan_ms", "queue_limit", "max_attempts", "retry_backoff_ms",
        "stop_timeout_s", "keep_done", "log_level", "max_input_bytes", "quarantine", "quarantine_after",
        "document_timeout_s", "http", "queue", "roles", "queue_lease_s",
    ]

    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// Loads a config file; relative folders in it are taken relative to the file's folder.
    public static func load(file: String) throws(ConfigurationError) -> ServiceConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ConfigurationError(file: file, message: "cannot read the config file: \(Self.reason(error))",
                                     hint: "check the path given to --config")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: file, message: "the config file is not UTF-8 text")
        }
        var configuration = try parse(text, file: file)
        let folder = (file as NSString).deletingLastPathComponent
        configuration.resolvePaths(relativeTo: folder.isEmpty ? "." : folder)
        return configuration
    }

    /// Parses config text (`file` is only used in errors); paths are left as written.
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> ServiceConfiguration {
        var configuration = ServiceConfiguration()
        guard let root = try YAMLParsing.parse(text, locate: { SourceLocation(file: file, line: $0, column: $1) }) else {
            return configuration  // an empty file: all defaults
        }
        if case .scalar(let text, let isNull, _) = root.kind, isNull || text.isEmpty { return configuration }
        guard case .mapping(let entries) = root.kind else {
            throw error(root, "the config must be a mapping of keys to values", hint: "for example 'workers: 2'")
        }
        var seen: [String: SourceLocation] = [:]
        for entry in entries {
            let key = entry.key, value = entry.value
            if let first = seen[key] {
                throw ConfigurationError("duplicate key '\(key)' (first at line \(first.line))", at: entry.keyLocation)
            }
            seen[key] = entry.keyLocation
            switch key {
            case "inbox": configuration.inbox = try path(key, value)
            case "outbox": configuration.outbox = try path(key, value)
            case "failed": configuration.failed = try path(key, value)
            case "state": configuration.state = try path(key, value)
            case "quarantine": configuration.quarantine = try path(key, value)
            case "max_input_bytes": configuration.maxInputBytes = try integer(key, value, in: 1...(1 << 30))
            case "quarantine_after": configuration.quarantineAfter = try integer(key, value, in: 1...100)
            case "pipelines": configuration.pipelines = try path(key, value)
            case "model": configuration.model = try path(key, value)
            case "workers": configuration.workers = try integer(key, value, in: 1...256)
            case "threads_per_worker": configuration.threadsPerWorker = try integer(key, value, in: 1...256)
            case "settle_ms": configuration.settleMilliseconds = try integer(key, value, in: 0...3_600_000)
            case "rescan_ms": configuration.rescanMilliseconds = try integer(key, value, in: 100...3_600_000)
            case "queue_limit": configuration.queueLimit = try integer(key, value, in: 1...1_000_000)
            case "max_attempts": configuration.maxAttempts = try integer(key, value, in: 1...100)
            case "retry_backoff_ms": configuration.retryBackoffMilliseconds = try integer(key, value, in: 0...3_600_000)
            case "stop_timeout_s": configuration.stopTimeoutSeconds = try number(key, value, in: 0...3600)
            case "document_timeout_s": configuration.documentTimeoutSeconds = try number(key, value, in: 0...86400)
            case "keep_done": configuration.keepDone = try boolean(key, value)
            case "http": configuration.http = try httpAddress(key, value)
            case "queue": configuration.queue = try queueAddress(key, value)
            case "roles": configuration.roles = try roles(key, value)
            case "queue_lease_s": configuration.queueLeaseSeconds = try number(key, value, in: 1...3600)
            case "watch":
                let word = try string(key, value)
                guard let mode = ServiceConfiguration.WatchMode(rawValue: word) else {
                    throw error(value, "'watch' must be inotify or poll, not '\(word)'",
                                hint: EditDistance.didYouMean(word, among: ServiceConfiguration.WatchMode.allCases.map(\.rawValue)))
                }
                configuration.watch = mode
            case "log_level":
                let word = try string(key, value)
                guard logLevels.contains(word) else {
                    throw error(value, "'log_level' must be one of \(logLevels.joined(separator: ", ")), not '\(word)'",
                                hint: EditDistance.didYouMean(word, among: logLevels))
                }
                configuration.logLevel = word
            default:
                let hint = EditDistance.didYouMean(key, among: keys)
                    ?? "known keys: \(keys.joined(separator: ", "))"
                throw ConfigurationError("unknown key '\(key)'", at: entry.keyLocation, hint: hint)
            }
        }
        return configuration
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
