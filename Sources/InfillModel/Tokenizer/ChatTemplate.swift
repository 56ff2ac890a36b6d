/// A model's chat template, recognised by its family and rendered by the engine itself.
///
/// A chat template is a Jinja program (`tokenizer.chat_template` in a GGUF file, `chat_template`
/// in an HF `tokenizer_config.json`). No Jinja engine is among the project's Swift packages
/// (Stencil is not Jinja-compatible), and the canvas needs only one shape of conversation — an
/// optional default system turn, one user turn, then the assistant's text — so the template's
/// text is recognised as one of the two families the reference models use and that shape is
/// rendered here (``ChatTemplate/recognise(_:beginToken:)``):
///
/// - ``Family/chatML``: `<|im_start|>role\ncontent<|im_end|>\n` (Qwen2 and Dream-v0-Instruct,
///   SmolLM2-Instruct), with the template's default system prompt when it adds one;
/// - ``Family/llama3``: `<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`, after
///   a begin token when the template writes one (`<|begin_of_text|>`, or LLaDA-8B-Instruct's
///   `bos_token`, `<|startoftext|>`).
///
/// Content is trimmed where the template trims it (`| trim`).
///
/// Anything else is no chat template: a field's instruction then stays in parentheses before its
/// gap. The renderings are checked against Python's Jinja2 on the real template texts
/// (`tools/reference/chat_templates.py`).
public struct ChatTemplate: Sendable, Hashable {
    /// The template families the engine renders.
    public enum Family: String, Sendable, Hashable {
        case chatML = "ChatML"
        case llama3 = "Llama 3"
    }

    /// A piece of a rendered conversation: a special token's text or plain text.
    public enum Piece: Sendable, Hashable {
        case special(String)
        case text(String)
    }

    public var family: Family
    /// The system turn the template adds when the conversation has none (nil: it adds none).
    public var defaultSystemPrompt: String?
    /// The begin-of-sequence token the template writes first, if any (`<|startoftext|>`).
    public var beginToken: String?
    /// Whether the template trims each message's content (Jinja's `| trim`), as Llama 3's does.
    public var trimsContent: Bool

    public init(family: Family, defaultSystemPrompt: String? = nil, beginToken: String? = nil, trimsContent: Bool = false) {
        self.family = family
        self.defaultSystemPrompt = defaultSystemPrompt
        self.beginToken = beginToken
        self.trimsContent = trimsContent
    }

    /// The special tokens a rendering uses; each must be a special token of the model's tokenizer.
    public var specialTokens: [String] {
        let turn = switch family {
        case .chatML: ["<|im_start|>", "<|im_end|>"]
        case .llama3: ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        }
        return (beginToken.map { [$0] } ?? []) + turn
    }

    /// The conversation up to where the assistant's text begins: the begin token, the default
    /// system turn, the user turn holding `user`, and the assistant's header (what the template
    /// renders for `[{role: user, content: user}]` with `add_generation_prompt`).
    public func conversationStart(user: String) -> [Piece] {
        var pieces = beginToken.map { [Piece.special($0)] } ?? []
        if let defaultSystemPrompt { pieces += turn(role: "system", content: defaultSystemPrompt) }
        pieces += turn(role: "user", content: user)
        pieces += header(role: "assistant")
        return pieces
    }

    /// What closes the assistant's turn after its text (`<|im_end|>\n`, `<|eot_id|>`).
    public var assistantEnd: [Piece] {
        switch family {
        case .chatML: [.special("<|im_end|>"), .text("\n")]
        case .llama3: [.special("<|eot_id|>")]
        }
    }

    /// A message's content as the template writes it into its turn (trimmed where it trims).
    public func content(_ text: String) -> String {
        trimsContent ? Self.trimmed(text) : text
    }

    /// Pieces as one string, as the Jinja template renders them.
    public static func text(of pieces: [Piece]) -> String {
        pieces.map { piece in
            switch piece {
            case .special(let s), .text(let s): s
            }
        }.joined()
    }

    /// Token ids of `pieces`: each special piece as its single special id, the text between
    /// special pieces encoded as plain text (special-token text in it is not parsed); nil when
    /// the tokenizer lacks one of the special tokens.
    public static func encode(_ pieces: [Piece], tokenizer: any Tokenizer) -> [TokenID]? {
        var ids: [TokenID] = []
        var pending = ""
        for piece in pieces {
            switch piece {
            case .text(let s):
                pending += s
            case .special(let s):
                if !pending.isEmpty { ids += tokenizer.encode(pending) }
                pending = ""
                guard let id = tokenizer.specialTokenID(s) else { return nil }
                ids.append(id)
            }
        }
        if !pending.isEmpty { ids += tokenizer.encode(pending) }
        return ids
    }

    private func header(role: String) -> [Piece] {
        switch family {
        case .chatML: [.special("<|im_start|>"), .text(role + "\n")]
        case .llama3: [.special("<|start_header_id|>"), .text(role), .special("<|end_header_id|>"), .text("\n\n")]
        }
    }

    private func turn(role: String, content: String) -> [Piece] {
        switch family {
        case .chatML: header(role: role) + [.text(self.content(content))] + assistantEnd
        case .llama3: header(role: role) + [.text(self.content(content)), .special("<|eot_id|>")]
        }
    }

    /// Jinja's `trim`: Python's `str.strip()` (leading and trailing whitespace).
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }
}
