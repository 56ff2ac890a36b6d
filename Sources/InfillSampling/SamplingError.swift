import InfillModel

/// Why a sampling run could not start or finish; each case says what is wrong and where.
public enum SamplingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A ``SamplingParameters`` value is out of range.
    case invalidParameter(String)
    /// A ``Canvas`` is malformed (canvas index, what is wrong).
    case invalidCanvas(canvas: Int, String)
    /// A keyword has no room left in its gap (canvas, gap and keyword indices).
    case keywordDoesNotFit(canvas: Int, gap: Int, keyword: Int)
    /// Every token is excluded at a position (bans, nulls and invalid ids left nothing to sample).
    case noAllowedToken(canvas: Int, position: Int)
    /// The model returned logits of the wrong shape.
    case modelOutput(String)

    public var description: String {
        switch self {
        case .invalidParameter(let message):
            return "invalid sampling parameter: \(message)"
        case .invalidCanvas(let canvas, let message):
            return "invalid canvas \(canvas): \(message)"
        case .keywordDoesNotFit(let canvas, let gap, let keyword):
            return "canvas \(canvas), gap \(gap): keyword \(keyword) does not fit together with the gap's other keywords and pins (make the gap longer or drop a keyword)"
        case .noAllowedToken(let canvas, let position):
            return "canvas \(canvas), position \(position): every token is excluded by the constraints"
        case .modelOutput(let message):
            return "model output: \(message)"
        }
    }
}
