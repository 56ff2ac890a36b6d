import InfillDiagnostics
import Logging
import InfillDocuments

/// Turns one claimed input file into a finished document: the seam between the spool and the
/// document layer.
///
/// The daemon calls ``process(name:contents:progress:)`` from several worker threads at once, so
/// implementations must be thread-safe; they run synchronously (CPU-bound) on a dedicated thread.
/// `PipelineDocumentProcessor` (in the CLI, which loads the model) is the production
/// implementation over `InfillDocuments`; tests use doubles.
public protocol DocumentProcessor: Sendable {
    /// The pipeline that will handle a file of this name, used only to interleave pipelines fairly
    /// in the queue (it may be a guess: the front matter can still choose another pipeline).
    func pipelineName(forFileNamed name: String) -> String

    /// Fills one document. Throws ``DocumentFailure`` (or any error, treated as permanent).
    func process(name: String, contents: [UInt8], progress: DocumentProgressHandler) throws -> ProcessedDocument

    /// Reloads the pipeline specs. Throws when a new spec is broken; the old specs then stay in use.
    /// Returns a one-line summary for the log (such as `4 pipelines`).
    func reload() throws -> String
}

/// Where one document's filling stands (the document layer's ``FillProgress``).
public typealias DocumentProgress = FillProgress

/// Receives progress of one document: denoising steps done out of the total, and a way to ask
/// whether the work is still wanted (false after the stop timeout ran out).
public struct DocumentProgressHandler: Sendable {
    private let report: @Sendable (DocumentProgress) -> Void
    private let wanted: @Sendable () -> Bool

    public init(report: @escaping @Sendable (Int, Int) -> Void, isWanted: @escaping @Sendable () -> Bool) {
        self.report = { report($0.step, $0.totalSteps) }
        self.wanted = isWanted
    }

    /// A handler that receives the whole ``DocumentProgress`` (fields, steps, forward passes).
    public init(update: @escaping @Sendable (DocumentProgress) -> Void, isWanted: @escaping @Sendable () -> Bool) {
        self.report = update
        self.wanted = isWanted
    }

    /// Records that `step` of `total` denoising steps are done.
    public func step(_ step: Int, of total: Int) { report(DocumentProgress(step: step, totalSteps: total)) }

    /// Records where the document stands.
    public func update(_ progress: DocumentProgress) { report(progress) }

    /// False once the daemon gave up on this document (it will be put back into the inbox).
    public var isWanted: Bool { wanted() }

    /// A handler that ignores progress and always wants the work.
    public static let ignoring = DocumentProgressHandler(report: { _, _ in }, isWanted: { true })
}

/// The result of processing one document: what the spool writes, the bytes of a
/// ``FilledDocument`` (``init(_:)``) without the documents layer's report value and replay.
public struct ProcessedDocument: Sendable, Equatable {
    /// The file name in the outbox (such as `q3.md` for `q3.brief.md`).
    public var outputName: String
    /// The finished document; the same input must always give the same bytes.
    public var document: [UInt8]
    /// The `NAME.report.json` contents, if the pipeline asks for a report.
    public var report: [UInt8]?
    /// The pipeline that filled it, for the log.
    public var pipeline: String
    /// The `NAME.html` page, if the pipeline asks for one (`output: { html: true }`).
    public var html: [UInt8]?

    public init(outputName: String, document: [UInt8], report: [UInt8]?, pipeline: String, html: [UInt8]? = nil) {
        self.outputName = outputName
        self.document = document
        self.report = report
        self.pipeline = pipeline
        self.html = html
    }
}

extension ProcessedDocument {
    /// What the spool writes of a document the documents layer filled: its output name, the
    /// document, report and page bytes, and the pipeline that filled it.
    public init(_ filled: FilledDocument) {
        self.init(outputName: filled.outputName, document: filled.documentBytes, report: filled.reportBytes,
                  pipeline: filled.report.pipeline, html: filled.htmlBytes)
    }
}

/// Why a document could not be processed: a `Diagnostic`, the same value the document layer
/// throws (``DocumentError``), so nothing is copied on the way to `failed/NAME.error.json`.
///
/// Permanent failures (bad YAML, unknown placeholder, unsatisfiable constraint) move the input to
/// `failed/`; transient ones (out of memory, model file missing) are retried with backoff first.
public typealias DocumentFailure = Diagnostic

extension Diagnostic {
    /// A failure of one document, in the argument order the daemon writes it.
    public init(
        message: String, file: String? = nil, line: Int? = nil, column: Int? = nil,
        hint: String? = nil, isPermanent: Bool = true
    ) {
        self.init(message, file: file, line: line, column: column, hint: hint, isPermanent: isPermanent)
    }
}

extension DocumentProcessor {
    /// SIGHUP's reload, off the cooperative threads, logged: the summary on success, the error on
    /// failure (the old pipelines then stay in use); nothing when shutdown abandons it.
    public func reloadLogged(_ logger: Logger) async {
        let result = await InFlightWork<Result<String, DocumentFailure>>().run {
            do {
                return .success(try self.reload())
            } catch let failure as DocumentFailure {
                return .failure(failure)
            } catch {
                return .failure(DocumentFailure(message: "\(error)"))
            }
        }
        switch result {
        case .success(let summary):
            logger.notice("pipelines reloaded", metadata: ["result": "reloaded", "pipelines": "\(summary)"])
        case .failure(let failure):
            logger.error("reload failed; the previous pipelines stay in use", metadata: ["result": "reload failed", "error": "\(failure)"])
        case nil:
            break
        }
    }
}
