import InfillDocuments
import InfillModel
import InfillService
import Synchronization

/// The production `DocumentProcessor`: fills documents with `InfillDocuments`' `DocumentFiller`
/// over one loaded model and a folder of pipeline specs. It lives at the composition root (the
/// CLI, which loads the model), so the daemon's library does not import the model layer.
///
/// The model is loaded once and shared read-only; a reload builds a new `PipelineLibrary` and
/// filler and swaps them in only when every spec in the folder is valid, so a broken edit never
/// takes a working pipeline away.
package final class PipelineDocumentProcessor: DocumentProcessor {
    package let model: LoadedModel
    /// The folder of `*.yaml` pipeline specs.
    package let directory: String
    private let current: Mutex<DocumentFiller>

    /// Loads the pipelines. Broken spec files do not stop the start (the good pipelines serve);
    /// their errors are returned in ``startupErrors`` for the log. Throws only when the folder
    /// cannot be read.
    /// - Parameter overlapsParent: see ``DocumentFiller/init(model:library:overlapsParent:)``; for a
    ///   daemon with one worker and several BLAS threads.
    package init(model: LoadedModel, pipelinesDirectory: String, overlapsParent: Bool = false) throws(DocumentFailure) {
        self.model = model
        self.overlapsParent = overlapsParent
        self.directory = pipelinesDirectory
        let library = try Self.loadLibrary(pipelinesDirectory)
        startupErrors = library.errors
        current = Mutex(DocumentFiller(model: model, library: library, overlapsParent: overlapsParent))
    }

    private let overlapsParent: Bool

    /// Problems found in the pipeline folder at start (each file that could not be loaded).
    package let startupErrors: [DocumentFailure]

    /// The names of the loaded pipelines.
    package var pipelineNames: [String] {
        current.withLock { $0.library.pipelines.map(\.name) }
    }

    package func pipelineName(forFileNamed name: String) -> String {
        Self.pipelineName(forFileNamed: name, in: current.withLock { $0.library })
    }

    /// The pipeline `library` matches to a file name, by the rule `infill fill` uses
    /// (``PipelineLibrary/pipeline(forFileNamed:)``). Only a hint for fair interleaving: the
    /// front matter may still pick another pipeline.
    static func pipelineName(forFileNamed name: String, in library: PipelineLibrary) -> String {
        library.pipeline(forFileNamed: name).name
    }

    package func process(name: String, contents: [UInt8], progress: DocumentProgressHandler) throws -> ProcessedDocument {
        let filler = current.withLock { $0 }
        do {
            let filled = try filler.fill(name: name, contents: contents, file: name,
                                         shouldContinue: { progress.isWanted }) { update in
                progress.update(update)
            }
            return ProcessedDocument(filled)
        } catch let errors as DocumentErrors {
            // A document error is already the daemon's failure; of several, the first is reported.
            throw errors.errors.first ?? DocumentFailure(message: "\(errors)", file: name)
        }
    }

    package func reload() throws -> String {
        let library = try Self.loadLibrary(directory)
        if let first = library.errors.first {
            var failure = first
            if library.errors.count > 1 {
                failure.message += " (and \(library.errors.count - 1) more broken pipeline files; run infill check)"
            }
            throw failure
        }
        current.withLock { $0 = DocumentFiller(model: model, library: library, overlapsParent: overlapsParent) }
        return "\(library.pipelines.count) pipelines: \(library.pipelines.map(\.name).joined(separator: ", "))"
    }

    private static func loadLibrary(_ directory: String) throws(DocumentFailure) -> PipelineLibrary {
        do {
            return try PipelineLibrary.load(directory: directory)
        } catch let error as DocumentError {
            throw error
        } catch {
            throw DocumentFailure(message: "cannot load the pipelines: \(error)", file: directory)
        }
    }
}
