/// A length constraint in words or tokens: `words: 20-40` (between) or `words: 30` (at most).
public struct LengthBound: Sendable, Hashable, CustomStringConvertible {
    /// Fewest allowed (at least 1).
    public var min: Int
    /// Most allowed.
    public var max: Int

    public init(min: Int, max: Int) {
        self.min = min
        self.max = max
    }

    /// `20-40`, or `at most 30`.
    public var description: String { min <= 1 ? "at most \(max)" : "\(min)-\(max)" }

    /// Whether `count` is within the bound.
    public func contains(_ count: Int) -> Bool { count >= min && count <= max }

    /// Parses `N` or `A-B` from a YAML scalar, refusing a minimum above the maximum.
    static func decode(_ node: YAMLNode, what: String, limit: Int) throws -> LengthBound {
        let hint = "write a number (at most N) or a range such as 20-40"
        guard case .scalar(let raw, false, _) = node.kind else {
            throw DocumentError("\(what) must be a number or a range, found \(node.kindName)", at: node.location, hint: hint)
        }
        let text = raw.trimmingSpaces()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        let bound: LengthBound
        if parts.count == 1, let n = Int(parts[0]) {
            bound = LengthBound(min: 1, max: n)
        } else if parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]) {
            bound = LengthBound(min: a, max: b)
        } else {
            throw DocumentError("\(what) must be a number or a range, found '\(text)'", at: node.location, hint: hint)
        }
        guard bound.min >= 1, bound.max >= 1 else {
            throw DocumentError("\(what) must be at least 1, found '\(text)'", at: node.location, hint: hint)
        }
        guard bound.min <= bound.max else {
            throw DocumentError("\(what): the minimum \(bound.min) is greater than the maximum \(bound.max)",
                                at: node.location, hint: "swap them: \(bound.max)-\(bound.min)")
        }
        guard bound.max <= limit else {
            throw DocumentError("\(what): \(bound.max) is more than the limit of \(limit)", at: node.location)
        }
        return bound
    }
}
