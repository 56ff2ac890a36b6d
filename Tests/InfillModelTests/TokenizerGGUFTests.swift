import Foundation
import Testing

import InfillModel

/// The tokenizer read from the real base model's GGUF metadata (through the engine's
/// ``GGUFTokenizerReader``) gives HF's ids; runs when `infill model fetch` has stored the model.
@Suite struct TokenizerGGUFTests {
    @Test(.enabled(if: ModelCache.default.hasBaseModel))
    func baseModelTokenizerMatchesHFTokenizers() throws {
        let file = try GGUFFile(path: ModelCache.default.baseModelURL.path)
        let tokenizer = try GGUFTokenizerReader.tokenizer(of: file)
        #expect(tokenizer.vocabularySize == 49152)
        #expect(tokenizer.preTokenizerKind == .smollm)
        #expect(tokenizer.specialTokenID("<|im_end|>") == 2)
        let reference = TokenizerFixtures.reference
        let expected = try #require(reference.tokenizers["smollm2"])
        for (index, text) in reference.cases.enumerated() {
            #expect(tokenizer.encode(text, parseSpecial: true) == expected[index].special, "case \(index)")
            #expect(tokenizer.encode(text, parseSpecial: false) == expected[index].plain, "case \(index)")
        }
    }
}
