/// A token id in a model's vocabulary.
public typealias TokenID = Int32

/// One sequence of a batched prediction: a canvas of tokens and the positions whose tokens are wanted.
///
/// The canvas may hold the model's mask token anywhere. `positions` name the canvas positions to
/// predict; the model applies its own conventions (such as Dream's one-position logit shift)
/// internally, so row `r` of the result is always the distribution of the token *at*
/// `positions[r]`.
public struct PredictionRequest: Sendable, Hashable {
    /// The canvas, mask tokens included.
    public var tokens: [TokenID]
    /// Canvas positions whose token distribution is wanted, in the order the rows are returned.
    public var positions: [Int]

    public init(tokens: [TokenID], positions: [Int]) {
        self.tokens = tokens
        self.positions = positions
    }
}

/// A row-major matrix of logits: one row per requested position, ``width`` columns each.
public struct LogitMatrix: Sendable, Equatable {
    /// Number of rows (requested positions).
    public let rows: Int
    /// Number of columns (the model's output width).
    public let width: Int
    /// `rows * width` values, row-major.
    public var values: [Float]

    public init(rows: Int, width: Int, values: [Float]) {
        precondition(values.count == rows * width, "LogitMatrix: \(values.count) values for \(rows)x\(width)")
        self.rows = rows
        self.width = width
        self.values = values
    }

    /// The logits of row `row`.
    public subscript(row row: Int) -> ArraySlice<Float> {
        values[(row * width)..<((row + 1) * width)]
    }
}

/// A model that predicts the tokens at masked canvas positions: what the diffusion sampler drives.
///
/// The transformer in this module implements it (bidirectional attention, optional logit shift);
/// `InfillModelTestKit` provides small scripted doubles for the higher layers' tests.
/// Implementations are immutable and safe to call from many workers at once.
public protocol DenoisingModel: Sendable {
    /// Width of a logit row (may exceed ``samplableVocabularySize``).
    var logitWidth: Int { get }
    /// Ids at or beyond this never name a real token and must never be sampled.
    var samplableVocabularySize: Int { get }
    /// The mask token that marks a position still to be generated.
    var maskTokenID: TokenID { get }
    /// The null/end token that pads the unused tail of a variable-length gap.
    var nullTokenID: TokenID { get }
    /// The longest canvas one request may hold.
    var maxSequenceLength: Int { get }
    /// The token every canvas starts with at position 0, if the model was trained with one.
    ///
    /// Under Dream's logit shift position 0 is never predicted, so a canvas that begins with a
    /// gap would leave its first token untrained; a fixed start token avoids that.
    var startTokenID: TokenID? { get }

    /// Predicts the requested positions of every sequence in one batched forward pass.
    ///
    /// - Returns: one ``LogitMatrix`` per request, with `request.positions.count` rows.
    func predict(_ requests: [PredictionRequest]) throws -> [LogitMatrix]
}

extension DenoisingModel {
    /// No start token unless the model says so.
    public var startTokenID: TokenID? { nil }
}

/// A denoiser that can reuse keys and values between steps (Fast-dLLM's approximate KV cache).
///
/// The sampler records a cache with a full pass at each block boundary, then recomputes only
/// the active block's rows until the next refresh.
public protocol CachingDenoisingModel: DenoisingModel {
    /// Like ``DenoisingModel/predict(_:)``, recording every request's keys and values into its cache.
    func predict(_ requests: [PredictionRequest], recordingInto caches: [KVCache]) throws -> [LogitMatrix]
    /// Predicts after recomputing only `recompute` positions of each request (plus the rows the
    /// model's own conventions need, such as the logit shift's previous row); every other
    /// position's keys and values come from the request's cache.
    func predict(_ requests: [PredictionRequest], recomputing: [[Int]], caches: [KVCache]) throws -> [LogitMatrix]
}
