import Foundation
import Yams
import InfillDiagnostics

/// Reads `infill.yaml` strictly through Yams' node tree, so every error names its line and column:
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
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw yamlError(error, file: file)
        } catch {
            throw ConfigurationError(file: file, message: "invalid YAML: \(error)")
        }
        guard let root else { return configuration }  // an empty file: all defaults
        if case .scalar(let scalar) = root, scalar.string.isEmpty || scalar.tag.rawValue == Tag.Name.null.rawValue {
            return configuration
        }
        guard let mapping = root.mapping else {
            throw error(file, root, "the config must be a mapping of keys to values", hint: "for example 'workers: 2'")
        }
        var seen: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw error(file, keyNode, "keys must be plain names")
            }
            if let first = seen[key] {
                let at = first.mark.map { " (first at line \($0.line))" } ?? ""
                throw error(file, keyNode, "duplicate key '\(key)'\(at)")
            }
            seen[key] = keyNode
            switch key {
            case "inbox": configuration.inbox = try path(file, key, value)
            case "outbox": configuration.outbox = try path(file, key, value)
            case "failed": configuration.failed = try path(file, key, value)
            case "state": configuration.state = try path(file, key, value)
            case "quarantine": configuration.quarantine = try path(file, key, value)
            case "max_input_bytes": configuration.maxInputBytes = try integer(file, key, value, in: 1...(1 << 30))
            case "quarantine_after": configuration.quarantineAfter = try integer(file, key, value, in: 1...100)
            case "pipelines": configuration.pipelines = try path(file, key, value)
            case "model": configuration.model = try path(file, key, value)
            case "workers": configuration.workers = try integer(file, key, value, in: 1...256)
            case "threads_per_worker": configuration.threadsPerWorker = try integer(file, key, value, in: 1...256)
            case "settle_ms": configuration.settleMilliseconds = try integer(file, key, value, in: 0...3_600_000)
            case "rescan_ms": configuration.rescanMilliseconds = try integer(file, key, value, in: 100...3_600_000)
            case "queue_limit": configuration.queueLimit = try integer(file, key, value, in: 1...1_000_000)
            case "max_attempts": configuration.maxAttempts = try integer(file, key, value, in: 1...100)
            case "retry_backoff_ms": configuration.retryBackoffMilliseconds = try integer(file, key, value, in: 0...3_600_000)
            case "stop_timeout_s": configuration.stopTimeoutSeconds = try number(file, key, value, in: 0...3600)
            case "document_timeout_s": configuration.documentTimeoutSeconds = try number(file, key, value, in: 0...86400)
            case "keep_done": configuration.keepDone = try boolean(file, key, value)
            case "http": configuration.http = try httpAddress(file, key, value)
            case "queue": configuration.queue = try queueAddress(file, key, value)
            case "roles": configuration.roles = try roles(file, key, value)
            case "queue_lease_s": configuration.queueLeaseSeconds = try number(file, key, value, in: 1...3600)
            case "watch":
                let word = try string(file, key, value)
                guard let mode = ServiceConfiguration.WatchMode(rawValue: word) else {
                    throw error(file, value, "'watch' must be inotify or poll, not '\(word)'",
                                hint: EditDistance.didYouMean(word, among: ServiceConfiguration.WatchMode.allCases.map(\.rawValue)))
                }
                configuration.watch = mode
            case "log_level":
                let word = try string(file, key, value)
                guard logLevels.contains(word) else {
                    throw error(file, value, "'log_level' must be one of \(logLevels.joined(separator: ", ")), not '\(word)'",
                                hint: EditDistance.didYouMean(word, among: logLevels))
                }
                configuration.logLevel = word
            default:
                let hint = EditDistance.didYouMean(key, among: keys)
                    ?? "known keys: \(keys.joined(separator: ", "))"
                throw error(file, keyNode, "unknown key '\(key)'", hint: hint)
            }
        }
        return configuration
    }

    private static func error(_ file: String, _ node: Node, _ message: String, hint: String? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: node.mark?.line, column: node.mark?.column, message: message, hint: hint)
    }

    private static func scalar(_ file: String, _ key: String, _ node: Node, expected: String) throws(ConfigurationError) -> Node.Scalar {
        guard let scalar = node.scalar else {
            throw error(file, node, "'\(key)' must be \(expected), not a \(node.mapping != nil ? "mapping" : "list")")
        }
        return scalar
    }

    private static func string(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> String {
        try scalar(file, key, node, expected: "a word").string
    }

    private static func path(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> String {
        let text = try scalar(file, key, node, expected: "a path").string
        guard !text.isEmpty, node.tag.rawValue != Tag.Name.null.rawValue else {
            throw error(file, node, "'\(key)' must not be empty")
        }
        return text
    }

    private static func integer(_ file: String, _ key: String, _ node: Node, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let text = try scalar(file, key, node, expected: "a whole number").string
        guard let value = Int(text) else {
            throw error(file, node, "'\(key)' must be a whole number, not '\(text)'")
        }
        guard range.contains(value) else {
            throw error(file, node, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    private static func number(_ file: String, _ key: String, _ node: Node, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        let text = try scalar(file, key, node, expected: "a number").string
        guard let value = Double(text), value.isFinite else {
            throw error(file, node, "'\(key)' must be a number, not '\(text)'")
        }
        guard range.contains(value) else {
            throw error(file, node, "'\(key)' must be between \(Int(range.lowerBound)) and \(Int(range.upperBound)), not \(text)")
        }
        return value
    }

    private static func boolean(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> Bool {
        let text = try scalar(file, key, node, expected: "true or false").string
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(file, node, "'\(key)' must be true or false, not '\(text)'")
        }
    }

    /// `http: 127.0.0.1:9464`, `http: 9464` (loopback), `http: "[::1]:9464"`, `http:
    /// unix:/run/infill/http.sock`; `off`, `false` or an empty value turn the endpoint off.
    private static func httpAddress(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> HTTPAddress? {
        let text = try scalar(file, key, node, expected: "an address such as 127.0.0.1:9464").string
        if node.tag.rawValue == Tag.Name.null.rawValue || ["", "off", "false", "no", "~", "null"].contains(text.lowercased()) {
            return nil
        }
        guard let address = HTTPAddress(parsing: text) else {
            throw error(file, node, "'\(key)' must be HOST:PORT (such as 127.0.0.1:9464), [IPV6]:PORT, a port or unix:PATH, not '\(text)'",
                        hint: "a bare port listens on the loopback only; 'off' turns the endpoint off")
        }
        return address
    }

    /// `queue: postgresql://infill@db.example/infill`; empty or `off` = the local spool only.
    private static func queueAddress(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> QueueAddress? {
        let text = try scalar(file, key, node, expected: "a postgresql:// URL").string
        if node.tag.rawValue == Tag.Name.null.rawValue || ["", "off", "false", "no", "~", "null"].contains(text.lowercased()) {
            return nil
        }
        do {
            return try QueueAddress(parsing: text)
        } catch {
            throw self.error(file, node, "'\(key)' is not a usable PostgreSQL URL: \(error)",
                             hint: "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
    }

    /// `roles: [watch, work, export]` (or one word, or `watch, work`).
    private static func roles(_ file: String, _ key: String, _ node: Node) throws(ConfigurationError) -> Set<DaemonRole> {
        let words: [Node]
        if let sequence = node.sequence { words = Array(sequence) } else { words = [node] }
        var roles: Set<DaemonRole> = []
        for word in words {
            let text = try string(file, key, word)
            switch DaemonRole.parseList(text) {
            case .success(let parsed): roles.formUnion(parsed)
            case .failure(let failure):
                let unknown = failure.word
                let names = DaemonRole.allCases.map(\.rawValue)
                throw error(file, word, "'\(key)' lists watch, work and export, not '\(unknown)'",
                            hint: EditDistance.didYouMean(unknown, among: names))
            }
        }
        guard !roles.isEmpty else { throw error(file, node, "'\(key)' must name at least one of watch, work, export") }
        return roles
    }

    private static func yamlError(_ error: YamlError, file: String) -> ConfigurationError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return ConfigurationError(file: file, line: mark.line, column: mark.column, message: "invalid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigurationError(file: file, line: context.mark.line, column: context.mark.column,
                                      message: "duplicate key '\(duplicates.joined(separator: "', '"))'")
        default:
            return ConfigurationError(file: file, message: "invalid YAML: \(error)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
