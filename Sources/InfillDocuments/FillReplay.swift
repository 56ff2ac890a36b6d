/// The step-by-step record of one fill: every field's text after each sampler step, masks shown.
///
/// Recorded only when ``DocumentFiller/fill(name:contents:file:pipeline:recordReplay:shouldContinue:progress:)``
/// is asked to (or the pipeline says `output: { html: true }`), from the sampler's history
/// (`DiffusionSampler.sample(_:parameters:recordHistory:…)`). Frame 0 is the whole document masked;
/// then, canvas by canvas, the canvas after keyword placement, after every sampler step, and the
/// fields as cleaned up into the document. The last frame's texts are the document's fields.
/// ``FillHTMLPage`` replays it.
public struct FillReplay: Sendable {
    /// What one masked token looks like in a frame's text (U+2592 MEDIUM SHADE).
    public static let mask: Character = "\u{2592}"

    /// One frame: the texts of the fields it changed, and the counters at that point.
    public struct Frame: Sendable, Equatable {
        /// What produced the frame.
        public enum Kind: String, Sendable {
            /// Every field of the canvas masked (frame 0: the whole document).
            case masked
            /// The canvas after its keywords were placed and pinned.
            case keywords
            /// The canvas after one sampler step.
            case step
            /// The canvas's fields as cleaned up into the document (spaces, word bounds).
            case cleanup
        }

        public var kind: Kind
        /// The sampling unit (canvas) this frame belongs to, from 0.
        public var canvas: Int
        /// The sampler step within the canvas (0 before the first step).
        public var step: Int
        /// The canvas's most steps (0 when not known yet).
        public var totalSteps: Int
        /// Forward passes of the whole document so far.
        public var forwardPasses: Int
        /// Seconds since the fill started.
        public var seconds: Double
        /// Field index (into ``DocumentPlan/fields``) → its text in this frame, for the fields of the
        /// canvas (frame 0: every field); fields not listed keep their text of the frame before.
        public var texts: [Int: String]
    }

    /// The plan that was filled (template pieces and fields).
    public var plan: DocumentPlan
    /// The frames in order; the first shows every field masked.
    public var frames: [Frame]

    /// Every field's text at frame `index` (frames applied in order).
    public func texts(at index: Int) -> [Int: String] {
        var texts: [Int: String] = [:]
        for frame in frames.prefix(index + 1) { texts.merge(frame.texts) { $1 } }
        return texts
    }

    /// The document body at frame `index`: the template pieces with the fields' frame texts.
    public func body(at index: Int) -> String {
        let texts = texts(at: index)
        var body = ""
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes): body += String(decoding: bytes, as: UTF8.self)
            case .field(let field): body += texts[field] ?? ""
            }
        }
        return body
    }
}
