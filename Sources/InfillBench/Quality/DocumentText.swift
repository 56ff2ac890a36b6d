import InfillDocuments

/// The text of a plan's body around its fields, for judging fills in context.
enum DocumentText {
    /// The body before field `index` (earlier fields as `fills` has them) and the literal text right after it.
    static func around(_ plan: DocumentPlan, field index: Int, fills: [Int: String]) -> (before: String, after: String) {
        var before: [UInt8] = []
        var after: [UInt8] = []
        var seen = false
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes):
                if seen { after += bytes } else { before += bytes }
            case .field(let i):
                if i == index { seen = true; continue }
                if seen { return (String(decoding: before, as: UTF8.self), String(decoding: after, as: UTF8.self)) }
                before += Array((fills[i] ?? "").utf8)
            }
        }
        return (String(decoding: before, as: UTF8.self), String(decoding: after, as: UTF8.self))
    }
}
