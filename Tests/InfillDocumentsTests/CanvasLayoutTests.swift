import InfillModel
import InfillModelTestKit
import Testing
@testable import InfillDocuments

/// A unit's later attempts reuse the tokenised document and change only the gaps.
@Suite struct CanvasLayoutTests {
    @Test func rebudgetedMatchesABuildWithTheNewBudgets() throws {
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose()), library: .empty)
        let text = "Intro text. {{a | words: 2-4}} middle {{b | words: 3-5}} end.\n"
        let plan = try DocumentFiller.plan(name: "t.md", contents: Array(text.utf8), library: .empty)
        var compiled: [Int: CompiledField] = [:]
        for (i, field) in try filler.compile(plan).enumerated() { compiled[i] = field }
        var retuned = compiled
        retuned[0]?.budget.maskTokens += 7
        retuned[0]?.constraints.minTokens = 3
        let tokenizer = filler.model.tokenizer
        let first = CanvasLayout.build(plan: plan, unit: [0, 1], filled: [:], compiled: compiled, tokenizer: tokenizer)
        let rebuilt = CanvasLayout.build(plan: plan, unit: [0, 1], filled: [:], compiled: retuned, tokenizer: tokenizer)
        let reused = first.rebudgeted(retuned)
        #expect(reused.canvas(maskTokenID: 0, startTokenID: nil, seed: 1) == rebuilt.canvas(maskTokenID: 0, startTokenID: nil, seed: 1))
        #expect(reused.length == first.length + 7)
    }
}

/// ``ByteTokenizer`` with ChatML's `<|im_start|>` as one more special token (id 259), so a
/// ChatML template renders with it.
struct ChatByteTokenizer: Tokenizer {
    static let imStart: TokenID = 259
    private let byte = ByteTokenizer()

    var vocabularySize: Int { 260 }

    func encode(_ text: String, parseSpecial: Bool) -> [TokenID] {
        guard parseSpecial else { return byte.encode(text, parseSpecial: false) }
        return text.components(separatedBy: "<|im_start|>").enumerated().flatMap { index, part in
            (index > 0 ? [Self.imStart] : []) + byte.encode(part, parseSpecial: true)
        }
    }

    func decode(_ ids: [TokenID], skipSpecial: Bool) -> String {
        String(decoding: ids.flatMap { isSpecial($0) && skipSpecial ? [] : bytes(of: $0) }, as: UTF8.self)
    }

    func bytes(of id: TokenID) -> [UInt8] { id == Self.imStart ? Array("<|im_start|>".utf8) : byte.bytes(of: id) }
    func specialTokenID(_ text: String) -> TokenID? { text == "<|im_start|>" ? Self.imStart : byte.specialTokenID(text) }
    func isSpecial(_ id: TokenID) -> Bool { id >= 256 }
}

/// Where a field's instruction goes: in a chat turn before the document, or in parentheses.
@Suite struct CanvasInstructionTests {
    let template = ChatTemplate(family: .chatML, defaultSystemPrompt: "S")
    let tokenizer = ChatByteTokenizer()

    func layout(_ text: String, unit: [Int]? = nil, tokenizer: (any Tokenizer)? = nil, template: ChatTemplate?,
                layout: InstructionLayout) throws -> CanvasLayout {
        let tokenizer = tokenizer ?? self.tokenizer
        let filler = DocumentFiller(model: TestModels.loaded(TestModels.prose(), tokenizer: tokenizer), library: .empty)
        let plan = try DocumentFiller.plan(name: "t.md", contents: Array(text.utf8), library: .empty)
        var compiled: [Int: CompiledField] = [:]
        for (i, field) in try filler.compile(plan).enumerated() { compiled[i] = field }
        return CanvasLayout.build(plan: plan, unit: unit ?? Array(plan.fields.indices), filled: [:], compiled: compiled,
                                  tokenizer: tokenizer, template: template, layout: layout)
    }

    func contextText(_ layout: CanvasLayout) -> String {
        tokenizer.decode(layout.items.flatMap { item -> [TokenID] in if case .context(let ids) = item { ids } else { [] } },
                         skipSpecial: false)
    }

    let document = "# Brief\n\n{{summary | instruction: Two sentences.}}\n\nOwner: {{owner_name | words: 1-3, instruction: A person.}}\n\n{{notes | words: 3-6}}\n"

    @Test func theInstructionsBecomeAUserTurn() throws {
        let chat = try layout(document, template: template, layout: .chat)
        #expect(tokenizer.decode(chat.header, skipSpecial: false) == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\n"
            + "Fill in the document.\nsummary: Two sentences.\nowner name: A person.<|im_end|>\n<|im_start|>assistant\n")
        #expect(tokenizer.decode(chat.footer, skipSpecial: false) == "<|im_end|>\n")
        #expect(chat.header.filter { $0 == ChatByteTokenizer.imStart }.count == 3)
        // The document is the assistant's turn, without the parenthesised instructions.
        #expect(contextText(chat) == "# Brief\n\n\n\nOwner:\n\n\n")
        #expect(chat.gapFields == [0, 1, 2])
        let canvas = chat.canvas(maskTokenID: ByteTokenizer.mask, startTokenID: ByteTokenizer.endOfText, seed: 1)
        let start = [ByteTokenizer.endOfText] + chat.header
        #expect(Array(canvas.tokens.prefix(start.count)) == start)
        #expect(Array(canvas.tokens.suffix(chat.footer.count)) == chat.footer)
        #expect(canvas.tokens.count == chat.length + 1)
        #expect(canvas.gaps.first?.range.lowerBound == start.count + tokenizer.encode("# Brief\n\n").count)
    }

    @Test func inlineKeepsTheParentheses() throws {
        let inline = try layout(document, template: template, layout: .inline)
        #expect(inline.header.isEmpty && inline.footer.isEmpty)
        #expect(contextText(inline) == "# Brief\n\n(Two sentences.)\n\n\nOwner: (A person.)\n\n\n")
        // A model without a template, or whose tokenizer lacks the template's tokens, falls back to it.
        let noTemplate = try layout(document, template: nil, layout: .chat)
        let noMarkers = try layout(document, tokenizer: ByteTokenizer(), template: template, layout: .chat)
        for fallback in [noTemplate, noMarkers] {
            #expect(fallback.header.isEmpty)
            #expect(contextText(fallback) == contextText(inline))
        }
    }

    @Test func fieldsWithoutInstructionsGetNoTurn() throws {
        let plain = "Intro. {{a | words: 2-4}} middle {{b | words: 2-4}}\n"
        let chat = try layout(plain, template: template, layout: .chat)
        let inline = try layout(plain, template: template, layout: .inline)
        #expect(chat.header.isEmpty && chat.footer.isEmpty)
        let (c, i) = (chat.canvas(maskTokenID: 0, startTokenID: nil, seed: 1), inline.canvas(maskTokenID: 0, startTokenID: nil, seed: 1))
        #expect(c.tokens == i.tokens && c.gaps.map(\.range) == i.gaps.map(\.range))
        // Only the unit's own fields count: `notes` has no instruction.
        #expect(try layout(document, unit: [2], template: template, layout: .chat).header.isEmpty)
    }

    @Test func aWindowKeepsTheTurns() throws {
        let long = String(repeating: "Some context words here. ", count: 40) + "{{summary | words: 3-5, instruction: Short.}}\n" + String(repeating: "After. ", count: 40)
        let full = try layout(long, template: template, layout: .chat)
        let limit = full.header.count + full.footer.count + 200
        let window = full.window(maxLength: limit)
        #expect(window.header == full.header && window.footer == full.footer)
        #expect(window.length == limit)
        #expect(window.length < full.length)
    }

    @Test func theModelDecidesUnlessThePipelineSays() throws {
        let model = TestModels.prose()
        let chatModel = LoadedModel(model: model, tokenizer: tokenizer, name: "m", adapter: nil, chatTemplate: template,
                                    instructionLayout: .chat)
        #expect(chatModel.instructionLayout(nil) == .chat)
        #expect(chatModel.instructionLayout(.inline) == .inline)
        let plain = LoadedModel(model: model, tokenizer: tokenizer, name: "m", adapter: nil, instructionLayout: .chat)
        #expect(plain.instructionLayout == .inline)
        #expect(plain.instructionLayout(.chat) == .inline)
        #expect(ResolvedSampling(try SamplingSettings(yaml: "{instructions: chat}", label: "t")).instructions == .chat)
        #expect(ResolvedSampling(SamplingSettings()).instructions == nil)
        #expect(throws: DocumentError.self) { try SamplingSettings(yaml: "{instructions: chatt}", label: "t") }
    }
}
