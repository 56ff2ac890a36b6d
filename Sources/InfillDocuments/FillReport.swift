/// What `NAME.report.json` says about one filled document (DESIGN.md, "Templates and pipelines").
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
    }

    public var document: String
    public var output: String
    public var pipeline: String
    public var model: String
    public var adapter: String?
    /// The document seed (pipeline seed XOR FNV-1a 64 of the input bytes).
    public var seed: UInt64
    public var fields: [Field]
    public var totalForwardPasses: Int
    public var totalSeconds: Double

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
            ("forward_passes", .int(totalForwardPasses)),
            ("total_seconds", .double(totalSeconds)),
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
}

/// Progress of one ``DocumentFiller/fill(name:contents:file:pipeline:progress:)`` call.
public struct FillProgress: Sendable {
    /// The fields being filled now.
    public var fields: [String]
    /// Fields finished before this canvas.
    public var fieldsDone: Int
    public var fieldsTotal: Int
    /// The sampler's step within the current canvas, and its most steps.
    public var step: Int
    public var totalSteps: Int
    /// Forward passes of the whole document so far.
    public var forwardPasses: Int
}
