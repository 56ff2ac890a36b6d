/// Turns text into token ids and back.
///
/// ``BPETokenizer`` is the real implementation (byte-level BPE from GGUF metadata or
/// `tokenizer.json`); `InfillModelTestKit` has a tiny byte tokenizer for tests.
public protocol Tokenizer: Sendable {
    /// Number of ids the tokenizer can produce, special tokens included.
    var vocabularySize: Int { get }
    /// Encodes text without adding any special tokens. Special-token text (such as
    /// `<|im_end|>`) is encoded as the special token when `parseSpecial` is true.
    func encode(_ text: String, parseSpecial: Bool) -> [TokenID]
    /// Decodes ids to text; invalid UTF-8 at the edges is replaced, special tokens are rendered
    /// as their text unless `skipSpecial` is true.
    func decode(_ ids: [TokenID], skipSpecial: Bool) -> String
    /// The raw bytes a single token stands for (special tokens: their text as UTF-8).
    func bytes(of id: TokenID) -> [UInt8]
    /// The id of a special token by its text, such as `"<|endoftext|>"`.
    func specialTokenID(_ text: String) -> TokenID?
    /// Whether `id` is a special (control) token rather than text.
    func isSpecial(_ id: TokenID) -> Bool
}

extension Tokenizer {
    /// Encodes text as plain text (special-token strings are not recognised).
    public func encode(_ text: String) -> [TokenID] { encode(text, parseSpecial: false) }
    /// Decodes ids, dropping special tokens.
    public func decode(_ ids: [TokenID]) -> String { decode(ids, skipSpecial: true) }
}
