import Foundation

/// Builds the tokenizer of an HF model folder from its `tokenizer.json`.
public enum HFTokenizerReader {
    /// The tokenizer in `folder/tokenizer.json`.
    /// - Throws: ``ModelFileError`` naming the file when it is missing or unusable.
    public static func tokenizer(folder: String) throws -> BPETokenizer {
        let path = folder + "/tokenizer.json"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelFileError(path, "missing (an HF model folder needs tokenizer.json)")
        }
        do {
            return try BPETokenizer(tokenizerJSON: URL(fileURLWithPath: path))
        } catch let error as TokenizerError {
            throw ModelFileError(path, error.message)
        }
    }
}
