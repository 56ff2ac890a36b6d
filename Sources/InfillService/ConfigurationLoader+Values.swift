import InfillDiagnostics

/// The value readers of `infill.yaml`: each checks one key's ``YAMLNode`` and names the key, the
/// expected kind and the node's position when it is wrong.
extension ConfigurationLoader {
    static func error(_ node: YAMLNode, _ message: String, hint: String? = nil) -> ConfigurationError {
        ConfigurationError(message, at: node.location, hint: hint)
    }

    /// The text of a scalar (null included, as written); a list or mapping is refused.
    private static func scalar(_ key: String, _ node: YAMLNode, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let text, _, _) = node.kind else {
            throw error(node, "'\(key)' must be \(expected), not a \(node.isMapping ? "mapping" : "list")")
        }
        return text
    }

    static func string(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> String {
        try scalar(key, node, expected: "a word")
    }

    static func path(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> String {
        let text = try scalar(key, node, expected: "a path")
        guard !text.isEmpty, !node.isNull else {
            throw error(node, "'\(key)' must not be empty")
        }
        return text
    }

    static func integer(_ key: String, _ node: YAMLNode, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let text = try scalar(key, node, expected: "a whole number")
        guard let value = Int(text) else {
            throw error(node, "'\(key)' must be a whole number, not '\(text)'")
        }
        guard range.contains(value) else {
            throw error(node, "'\(key)' must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    static func number(_ key: String, _ node: YAMLNode, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double {
        let text = try scalar(key, node, expected: "a number")
        guard let value = Double(text), value.isFinite else {
            throw error(node, "'\(key)' must be a number, not '\(text)'")
        }
        guard range.contains(value) else {
            throw error(node, "'\(key)' must be between \(Int(range.lowerBound)) and \(Int(range.upperBound)), not \(text)")
        }
        return value
    }

    static func boolean(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> Bool {
        let text = try scalar(key, node, expected: "true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(node, "'\(key)' must be true or false, not '\(text)'")
        }
    }

    /// True for null and for the words that turn an optional address off (`off`, `false`, …).
    private static func isOff(_ text: String, _ node: YAMLNode) -> Bool {
        node.isNull || ["", "off", "false", "no", "~", "null"].contains(text.lowercased())
    }

    /// `http: 127.0.0.1:9464`, `http: 9464` (loopback), `http: "[::1]:9464"`, `http:
    /// unix:/run/infill/http.sock`; `off`, `false` or an empty value turn the endpoint off.
    static func httpAddress(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> HTTPAddress? {
        let text = try scalar(key, node, expected: "an address such as 127.0.0.1:9464")
        if isOff(text, node) { return nil }
        guard let address = HTTPAddress(parsing: text) else {
            throw error(node, "'\(key)' must be HOST:PORT (such as 127.0.0.1:9464), [IPV6]:PORT, a port or unix:PATH, not '\(text)'",
                        hint: "a bare port listens on the loopback only; 'off' turns the endpoint off")
        }
        return address
    }

    /// `queue: postgresql://infill@db.example/infill`; empty or `off` = the local spool only.
    static func queueAddress(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> QueueAddress? {
        let text = try scalar(key, node, expected: "a postgresql:// URL")
        if isOff(text, node) { return nil }
        do {
            return try QueueAddress(parsing: text)
        } catch {
            throw self.error(node, "'\(key)' is not a usable PostgreSQL URL: \(error)",
                             hint: "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
    }

    /// `roles: [watch, work, export]` (or one word, or `watch, work`).
    static func roles(_ key: String, _ node: YAMLNode) throws(ConfigurationError) -> Set<DaemonRole> {
        let words: [YAMLNode]
        if case .sequence(let items) = node.kind { words = items } else { words = [node] }
        var roles: Set<DaemonRole> = []
        for word in words {
            let text = try string(key, word)
            switch DaemonRole.parseList(text) {
            case .success(let parsed): roles.formUnion(parsed)
            case .failure(let failure):
                let unknown = failure.word
                let names = DaemonRole.allCases.map(\.rawValue)
                throw error(word, "'\(key)' lists watch, work and export, not '\(unknown)'",
                            hint: EditDistance.didYouMean(unknown, among: names))
            }
        }
        guard !roles.isEmpty else { throw error(node, "'\(key)' must name at least one of watch, work, export") }
        return roles
    }
}

extension YAMLNode {
    /// True for a mapping (for "not a mapping" / "not a list" messages).
    fileprivate var isMapping: Bool {
        if case .mapping = kind { return true }
        return false
    }
}
