/// Builds a ``BPETokenizer`` from a GGUF file's `tokenizer.ggml.*` metadata.
public enum GGUFTokenizerReader {
    /// The tokenizer of `file` (GGUF tokenizer model `gpt2`, byte-level BPE).
    /// - Throws: ``ModelFileError`` when the metadata is missing or of an unsupported kind.
    public static func tokenizer(of file: GGUFFile) throws -> BPETokenizer {
        let model = file["tokenizer.ggml.model"]?.stringValue
        guard model == "gpt2" else {
            throw ModelFileError(file.path, "tokenizer model '\(model ?? "none")' is not supported (only byte-level BPE, 'gpt2')")
        }
        guard let tokenValues = file["tokenizer.ggml.tokens"]?.arrayValue else {
            throw ModelFileError(file.path, "missing metadata 'tokenizer.ggml.tokens'")
        }
        let tokens = try tokenValues.enumerated().map { index, value in
            guard let s = value.stringValue else {
                throw ModelFileError(file.path, "tokenizer.ggml.tokens[\(index)] is not a string")
            }
            return s
        }
        let merges = try (file["tokenizer.ggml.merges"]?.arrayValue ?? []).enumerated().map { index, value in
            guard let s = value.stringValue else {
                throw ModelFileError(file.path, "tokenizer.ggml.merges[\(index)] is not a string")
            }
            return s
        }
        let types = try file["tokenizer.ggml.token_type"]?.arrayValue?.enumerated().map { index, value in
            guard let t = value.intValue, let t32 = Int32(exactly: t) else {
                throw ModelFileError(file.path, "tokenizer.ggml.token_type[\(index)] is not an integer")
            }
            return t32
        }
        let preName = file["tokenizer.ggml.pre"]?.stringValue ?? "default"
        guard let pre = PreTokenizerKind(ggufName: preName) else {
            throw ModelFileError(file.path, "pre-tokenizer '\(preName)' is not supported (supported: gpt2, smollm, qwen2, llama-bpe)")
        }
        do {
            return try BPETokenizer(
                tokens: tokens, merges: merges, tokenTypes: types, preTokenizer: pre,
                ignoreMerges: pre == .llama3, source: file.path)
        } catch let error as TokenizerError {
            throw ModelFileError(file.path, error.message)
        }
    }
}
