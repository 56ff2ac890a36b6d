import Foundation
import Testing

@testable import InfillModel

/// `Tests/Fixtures/chat-templates.json` (made by `tools/reference/chat_templates.py`): the
/// reference models' templates and their Jinja2 renderings.
private struct TemplateCase: Decodable {
    struct Rendering: Decodable {
        var user: String
        var assistant: String
        var start: String
        var full: String
    }

    var name: String
    var template: String
    var bos_token: String?
    var family: String?
    var default_system_prompt: String?
    var begin_token: String?
    var trims_content: Bool
    var renderings: [Rendering]
}

private let templateCases: [TemplateCase] = {
    let data = FileManager.default.contents(atPath: EngineFixtures.path("chat-templates.json")) ?? Data()
    return (try? JSONDecoder().decode([TemplateCase].self, from: data)) ?? []
}()

private let chatModelAvailable = FileManager.default.fileExists(atPath: ModelCache.default.baseModelURL.path)

@Suite struct ChatTemplateTests {
    @Test func theFixtureHasEveryTemplate() {
        #expect(templateCases.map(\.name) == [
            "SmolLM2-135M-Instruct", "Dream-v0-Instruct-7B", "LLaDA-8B-Instruct", "ChatML without a system turn",
            "Llama 3 with a system turn", "Gemma",
        ])
    }

    @Test(arguments: templateCases.map(\.name))
    func familyAndRenderingsMatchJinja(_ name: String) throws {
        let entry = try #require(templateCases.first { $0.name == name })
        let recognition = ChatTemplate.recognise(entry.template, beginToken: entry.bos_token)
        guard let family = entry.family else {
            #expect(recognition.template == nil)
            #expect(recognition.summary.hasPrefix("none ("))
            return
        }
        let template = try #require(recognition.template, "\(name): \(recognition.summary)")
        #expect(template.family.rawValue == family)
        #expect(template.defaultSystemPrompt == entry.default_system_prompt)
        #expect(template.beginToken == entry.begin_token)
        #expect(template.trimsContent == entry.trims_content)
        for r in entry.renderings {
            let start = ChatTemplate.text(of: template.conversationStart(user: r.user))
            #expect(start == r.start)
            #expect(start + template.content(r.assistant) + ChatTemplate.text(of: template.assistantEnd) == r.full)
        }
    }

    @Test func unrecognisedTemplatesSayWhy() {
        #expect(ChatTemplate.recognise("{{ messages }}", beginToken: nil) == .unrecognised("neither ChatML nor Llama 3 markers"))
        let mixed = "{{ '<|im_start|>user\\n' + '<|im_end|>\\n<|start_header_id|>x<|end_header_id|>\\n\\n<|eot_id|>' }}"
        #expect(ChatTemplate.recognise(mixed, beginToken: nil) == .unrecognised("the template mixes ChatML and Llama 3 markers"))
        // ChatML turns without a generation prompt cannot open the assistant's turn.
        let noPrompt = "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
        #expect(ChatTemplate.recognise(noPrompt, beginToken: nil).template == nil)
        // bos_token without a begin token in the model's files.
        let llada = templateCases.first { $0.name == "LLaDA-8B-Instruct" }?.template ?? ""
        #expect(ChatTemplate.recognise(llada, beginToken: nil).template == nil)
    }

    @Test func specialTokensEncodeToTheirSingleIDs() throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: TokenizerFixtures.smolLM2URL)
        let template = ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let pieces = template.conversationStart(user: "Fill in the document.\nsummary: Short.")
            + [.text("Notes: <|im_end|> stays text.\n")] + template.assistantEnd
        let ids = try #require(ChatTemplate.encode(pieces, tokenizer: tokenizer))
        let text = ChatTemplate.text(of: pieces)
        #expect(tokenizer.decode(ids, skipSpecial: false) == text)
        #expect(ids.filter { $0 == 1 }.count == 3)  // <|im_start|>: system, user, assistant
        #expect(ids.filter { $0 == 2 }.count == 3)  // <|im_end|>: system, user, the assistant's end; not the text's
        #expect(ids.first == 1 && ids.last == tokenizer.encode("\n").last)
        // Without document text that looks like a marker, it is what HF encodes of the rendered string.
        let plain = template.conversationStart(user: "Fill in the document.") + template.assistantEnd
        #expect(ChatTemplate.encode(plain, tokenizer: tokenizer) == tokenizer.encode(ChatTemplate.text(of: plain), parseSpecial: true))
    }

    @Test func aTokenizerWithoutTheMarkersHasNoTemplate() throws {
        let tokenizer = try BPETokenizer(tokenizerJSON: TokenizerFixtures.smolLM2URL)
        let llama = ChatTemplate.Recognition.recognised(ChatTemplate(family: .llama3))
        #expect(llama.checked(against: tokenizer)
            == .unrecognised("Llama 3 template, but <|start_header_id|> is not a special token of the tokenizer"))
        #expect(ChatTemplate.encode(ChatTemplate(family: .llama3).assistantEnd, tokenizer: tokenizer) == nil)
    }

    @Test func ggufKeepsItInTokenizerChatTemplate() throws {
        let file = try GGUFFile(path: EngineFixtures.path("chat-template.gguf"))
        let tokenizer = try GGUFTokenizerReader.tokenizer(of: file)
        let template = try #require(ChatTemplateReader.recognition(of: file, tokenizer: tokenizer).template)
        #expect(template == ChatTemplate(family: .llama3, beginToken: "<|startoftext|>", trimsContent: true))
        let ids = try #require(ChatTemplate.encode(template.conversationStart(user: "Hi"), tokenizer: tokenizer))
        #expect(Array(ids.prefix(2)) == [1, 2])  // <|startoftext|>, <|start_header_id|>
        #expect(ids.filter(tokenizer.isSpecial).count == 6)  // begin, 2 × (header open, close), end of turn
        #expect(tokenizer.decode(ids, skipSpecial: false)
            == "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test func hfKeepsItInTokenizerConfig() throws {
        let llamaTokenizer = try GGUFTokenizerReader.tokenizer(of: try GGUFFile(path: EngineFixtures.path("chat-template.gguf")))
        let smol = try BPETokenizer(tokenizerJSON: TokenizerFixtures.smolLM2URL)
        let folder = EngineFixtures.path("chat-templates")
        #expect(ChatTemplateReader.recognition(folder: folder + "/llada-instruct", tokenizer: llamaTokenizer).template
            == ChatTemplate(family: .llama3, beginToken: "<|startoftext|>", trimsContent: true))
        // A list of named templates: the one named "default" (Dream's).
        #expect(ChatTemplateReader.recognition(folder: folder + "/list-form", tokenizer: smol).template
            == ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful assistant."))
        #expect(ChatTemplateReader.recognition(folder: folder + "/unrecognised", tokenizer: smol)
            == .unrecognised("neither ChatML nor Llama 3 markers"))
        // LLaDA's template with a tokenizer that lacks its markers.
        #expect(ChatTemplateReader.recognition(folder: folder + "/llada-instruct", tokenizer: smol).template == nil)
    }

    @Test func hfWithoutAConfigOrWithAJinjaFile() throws {
        let smol = try BPETokenizer(tokenizerJSON: TokenizerFixtures.smolLM2URL)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(ChatTemplateReader.recognition(folder: folder, tokenizer: smol) == .absent)
        let smolTemplate = templateCases.first { $0.name == "SmolLM2-135M-Instruct" }?.template ?? ""
        try Data(smolTemplate.utf8).write(to: URL(fileURLWithPath: folder + "/chat_template.jinja"))
        #expect(ChatTemplateReader.recognition(folder: folder, tokenizer: smol).template?.defaultSystemPrompt
            == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: folder + "/tokenizer_config.json"))
        #expect(ChatTemplateReader.recognition(folder: folder, tokenizer: smol) == .unrecognised("tokenizer_config.json is not a JSON object"))
    }

    @Test func theLayoutFollowsTheTemplateAndTheAdapter() throws {
        let chat = ChatTemplate.Recognition.recognised(ChatTemplate(family: .chatML))
        let manifest = try JSONDecoder().decode(AdapterManifest.self, from: Data(#"""
            {"name": "a", "mask_token_id": 16, "null_token_id": 0, "logit_shift": true, "attention": "bidirectional",
             "rank": 4, "alpha": 4}
            """#.utf8))
        #expect(ModelLoader.instructionLayout(chat, adapter: nil) == .chat)
        #expect(ModelLoader.instructionLayout(chat, adapter: manifest) == .chat)
        var inlineAdapter = manifest
        inlineAdapter.instructions = "inline"
        #expect(ModelLoader.instructionLayout(chat, adapter: inlineAdapter) == .inline)
        #expect(ModelLoader.instructionLayout(.unrecognised("x"), adapter: nil) == .inline)
        var chatAdapter = manifest
        chatAdapter.instructions = "chat"
        #expect(ModelLoader.instructionLayout(.absent, adapter: chatAdapter) == .inline)
    }

    @Test(.enabled(if: chatModelAvailable, "base model not in the cache: run `infill model fetch`"))
    func theDefaultBaseModelHasSmolLMsTemplate() throws {
        let file = try GGUFFile(path: ModelCache.default.baseModelURL.path)
        let recognition = ChatTemplateReader.recognition(of: file, tokenizer: try GGUFTokenizerReader.tokenizer(of: file))
        #expect(recognition.template
            == ChatTemplate(family: .chatML, defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
    }
}
