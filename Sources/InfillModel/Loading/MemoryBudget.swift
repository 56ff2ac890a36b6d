import Foundation

/// Whether a model fits in memory, decided before any weight is read: the estimated resident
/// bytes of the chosen storage against what the machine (or its cgroup) has available.
public enum MemoryBudget {
    /// Bytes of one forward pass's working memory at `positions` tokens (activations, scores), rounded up.
    public static func workingBytes(config c: TransformerConfig, positions: Int) -> Int {
        let fused = c.queryWidth + 2 * c.keyValueWidth
        let perRow = 2 * c.hiddenSize + fused + c.queryWidth + 2 * c.intermediateSize
        let scores = min(768, c.headCount / c.kvHeadCount * positions) * positions
        let head = positions * c.vocabularySize
        return 4 * (positions * perRow + scores + head)
    }

    /// The estimated resident bytes of a model: `weightBytes` as held by the engine, the
    /// working memory of one forward pass at 1,024 positions, and 128 MiB for the rest of the process.
    public static func estimate(weightBytes: Int, config: TransformerConfig) -> Int {
        weightBytes + workingBytes(config: config, positions: min(1024, config.contextLength)) + 128 << 20
    }

    /// Bytes this process may still use: the smaller of `MemAvailable` (/proc/meminfo) and the
    /// cgroup v2 limit left (`memory.max − memory.current`), further capped by
    /// `INFILL_MEMORY_LIMIT` (bytes) when set; nil when none of them can be read.
    public static func availableBytes(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        var candidates: [Int] = []
        if let meminfo = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) {
            for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
                let fields = line.split(separator: " ")
                if fields.count >= 2, let kib = Int(fields[1]) { candidates.append(kib * 1024) }
            }
        }
        let cgroup = "/sys/fs/cgroup/"
        if let max = try? String(contentsOfFile: cgroup + "memory.max", encoding: .utf8),
           let limit = Int(max.trimmingCharacters(in: .whitespacesAndNewlines)),
           let now = try? String(contentsOfFile: cgroup + "memory.current", encoding: .utf8),
           let current = Int(now.trimmingCharacters(in: .whitespacesAndNewlines)) {
            candidates.append(Swift.max(0, limit - current))
        }
        if let text = environment["INFILL_MEMORY_LIMIT"], let limit = Int(text) { candidates.append(limit) }
        return candidates.min()
    }

    /// Throws when `estimated` exceeds `available` (nothing is checked when `available` is nil).
    /// - Throws: ``ModelFileError`` for `source` with both numbers and what the estimate holds.
    public static func check(estimated: Int, available: Int?, source: String, detail: String) throws {
        guard let available, estimated > available else { return }
        throw ModelFileError(
            source, "does not fit in memory: needs an estimated \(gib(estimated)) (\(detail)) but \(gib(available)) are available")
    }

    /// `12.3 GiB`, or `850.0 MiB` below one GiB.
    public static func gib(_ bytes: Int) -> String {
        bytes >= 1 << 30
            ? String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
            : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }
}
