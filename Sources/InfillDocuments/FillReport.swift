import InfillSampling

/// What `NAME.report.json` says about one filled document (docs/PIPELINES.md, "The report").
///
/// The document bytes are deterministic for the same input and seed; the report is too, except
/// for its `seconds` values (wall-clock time).
public struct FillReport: Sendable {
    /// One generated field.
    public struct Field: Sendable {
        public var name: String
        public var text: String
        public var tokens: Int
        public var words: Int
        /// Denoising steps of the canvas that filled this field (shared by the fields filled with it).
        public var steps: Int
        /// Forward passes of that canvas, over all candidates and attempts.
        public var forwardPasses: Int
        /// Wall-clock seconds of that canvas, over all candidates and attempts.
        public var seconds: Double
        public var keywords: [String]
        public var keywordsFound: [String]
        public var avoid: [String]
        public var tone: String?
        public var toneScore: Double?
        /// The seed of the chosen candidate's canvas.
        public var seed: UInt64
        public var candidates: Int
        public var attempts: Int
        /// The fields filled in the same canvas (itself included).
        public var canvasFields: [String]
        /// The number of that canvas in fill order, as the replay page counts them.
        public var canvas: Int
        /// Whether the text comes from the repair pass: the first fill did not read as prose or
        /// forced a keyword in, so the field was filled again on its own between the finished fields.
        public var repaired: Bool
        /// How well the worst-placed keyword fitted where it was written
        /// (``FieldOutcome/keywordFit``, natural log; nil for a field without keywords).
        public var keywordFit: Double? = nil
    }

    /// One sampler call on one canvas: the first pass fills every field, repairs refill one.
    public struct Canvas: Sendable, Equatable {
        /// Its number in fill order (``Field/canvas``), as the replay page counts them.
        public var number: Int
        public var fields: [String]
        public var steps: Int
        public var forwardPasses: Int
        public var seconds: Double
        /// Whether this canvas refilled a field whose first fill did not read as prose or forced a
        /// keyword in.
        public var repair: Bool
        /// Whether any of its text is in the document (a dropped repair or a canvas whose every
        /// field was repaired is not). A dropped repair is left out of the replay.
        public var used: Bool
    }

    public var document: String
    public var output: String
    public var pipeline: String
    public var model: String
    public var adapter: String?
    /// The document seed (pipeline seed XOR FNV-1a 64 of the input bytes).
    public var seed: UInt64
    public var fields: [Field]
    /// Every canvas sampled, in fill order.
    public var canvases: [Canvas] = []
    public var totalForwardPasses: Int
    public var totalSeconds: Double
    /// Where the forward passes' time went (full passes, cached passes, the parent's steps).
    public var timings: SamplingTimings = SamplingTimings()

    /// The report as pretty JSON (stable key order).
    public func json() -> String {
        let fieldValues: [JSONValue] = fields.map { f in
            .object([
                ("name", .string(f.name)),
                ("text", .string(f.text)),
                ("tokens", .int(f.tokens)),
                ("words", .int(f.words)),
                ("steps", .int(f.steps)),
                ("forward_passes", .int(f.forwardPasses)),
                ("seconds", .double(f.seconds)),
                ("keywords", .array(f.keywords.map { .string($0) })),
                ("keywords_found", .array(f.keywordsFound.map { .string($0) })),
                ("avoid", .array(f.avoid.map { .string($0) })),
                ("tone", f.tone.map { .string($0) } ?? .null),
                ("tone_score", f.toneScore.map { .double($0) } ?? .null),
                ("seed", .uint(f.seed)),
                ("candidates", .int(f.candidates)),
                ("attempts", .int(f.attempts)),
                ("canvas_fields", .array(f.canvasFields.map { .string($0) })),
                ("canvas", .int(f.canvas)),
                ("repaired", .bool(f.repaired)),
                ("keyword_fit", f.keywordFit.map { .double(($0 * 100).rounded() / 100) } ?? .null),
            ])
        }
        return JSONValue.object([
            ("document", .string(document)),
            ("output", .string(output)),
            ("pipeline", .string(pipeline)),
            ("model", .string(model)),
            ("adapter", adapter.map { .string($0) } ?? .null),
            ("seed", .uint(seed)),
            ("fields", .array(fieldValues)),
            ("canvases", .array(canvases.map { c in
                .object([
                    ("canvas", .int(c.number)),
                    ("fields", .array(c.fields.map { .string($0) })),
                    ("steps", .int(c.steps)),
                    ("forward_passes", .int(c.forwardPasses)),
                    ("seconds", .double(c.seconds)),
                    ("repair", .bool(c.repair)),
                    ("used", .bool(c.used)),
                ])
            })),
            ("forward_passes", .int(totalForwardPasses)),
            ("total_seconds", .double(totalSeconds)),
            ("timings", .object([
                ("full_passes", .int(timings.fullPasses)),
                ("full_pass_seconds", .double(timings.fullPassSeconds)),
                ("cached_passes", .int(timings.cachedPasses)),
                ("cached_pass_seconds", .double(timings.cachedPassSeconds)),
                ("cached_rows", .int(timings.cachedRows)),
                ("parent_passes", .int(timings.parentPasses)),
                ("parent_seconds", .double(timings.parentSeconds)),
            ])),
        ]).rendered()
    }
}

/// A filled document, ready to be written: the service writes ``documentBytes`` to
/// ``outputName`` and ``reportBytes`` (when not nil) to `outputName + ".report.json"`.
public struct FilledDocument: Sendable {
    /// The output file name from the pipeline's `output.name`.
    public var outputName: String
    /// The filled document (deterministic for the same input bytes and pipeline).
    public var documentBytes: [UInt8]
    /// The JSON report, or nil when the pipeline says `report: false`.
    public var reportBytes: [UInt8]?
    /// The report's content.
    public var report: FillReport
    /// Every field after every sampler step, when the fill was asked to record it.
    public var replay: FillReplay? = nil
    /// The `NAME.html` page (``FillHTMLPage``), when the pipeline says `output: { html: true }`.
    public var htmlBytes: [UInt8]? = nil
}

/// Where one document's filling stands: the fields of the canvas being sampled, the sampler's
/// step in it, and the forward passes so far (what ``DocumentFiller`` reports after every step,
/// and what the daemon shows as a document's progress).
public struct FillProgress: Sendable, Equatable, Encodable {
    /// The fields being filled now (empty when the filler does not say).
    public var fields: [String]
    /// Fields finished before the current canvas, and the document's field count (0 = unknown).
    public var fieldsDone: Int
    public var fieldsTotal: Int
    /// The sampler's step within the current canvas, and its most steps.
    public var step: Int
    public var totalSteps: Int
    /// Forward passes of the whole document so far.
    public var forwardPasses: Int

    public init(fields: [String] = [], fieldsDone: Int = 0, fieldsTotal: Int = 0, step: Int, totalSteps: Int, forwardPasses: Int = 0) {
        self.fields = fields
        self.fieldsDone = fieldsDone
        self.fieldsTotal = fieldsTotal
        self.step = step
        self.totalSteps = totalSteps
        self.forwardPasses = forwardPasses
    }

    /// How much of the document is done, 0...1: finished fields count whole, the current canvas's
    /// fields by their share of its steps.
    public var fraction: Double {
        let canvas = totalSteps > 0 ? min(1, Double(step) / Double(totalSteps)) : 0
        guard fieldsTotal > 0 else { return canvas }
        let done = Double(fieldsDone) + canvas * Double(max(1, fields.count))
        return min(1, max(0, done / Double(fieldsTotal)))
    }
}
