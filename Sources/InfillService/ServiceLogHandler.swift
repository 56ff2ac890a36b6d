import Foundation
import Logging
import Synchronization

/// One line per log event on stderr: `LEVEL message key=value …`, with the document name first.
///
/// Under systemd (`$JOURNAL_STREAM` set) the timestamp is left out, since journald adds its own;
/// values with spaces are quoted so a line stays machine-readable.
public struct ServiceLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let timestamps: Bool
    private static let output = Mutex(())

    public init(label: String, level: Logger.Level = .info, timestamps: Bool) {
        self.logLevel = level
        self.timestamps = timestamps
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Keys that lead every line in this order, the rest follow sorted.
    static let leadingKeys = ["document", "pipeline", "result", "seconds"]

    public func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let line = Self.render(level: event.level, message: "\(event.message)", metadata: all, timestamp: timestamps ? Date() : nil)
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        Self.output.withLock { _ in
            _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    /// The text of one line (no newline).
    static func render(level: Logger.Level, message: String, metadata: Logger.Metadata, timestamp: Date?) -> String {
        var parts: [String] = []
        if let timestamp {
            parts.append(timestamp.formatted(.iso8601))
        }
        parts.append(level.rawValue)
        parts.append(message)
        let keys = leadingKeys.filter { metadata[$0] != nil } + metadata.keys.filter { !leadingKeys.contains($0) }.sorted()
        for key in keys {
            guard let value = metadata[key] else { continue }
            parts.append("\(key)=\(quoted("\(value)"))")
        }
        return parts.joined(separator: " ")
    }

    private static func quoted(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
        return "\"\(escaped)\""
    }
}
