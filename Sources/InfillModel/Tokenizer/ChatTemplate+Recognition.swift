extension ChatTemplate {
    /// What a model's files say about its chat template.
    public enum Recognition: Sendable, Hashable {
        /// The files carry no chat template.
        case absent
        /// A template of a family the engine renders.
        case recognised(ChatTemplate)
        /// A template the engine does not render, and why: the model has no chat template.
        case unrecognised(String)

        /// The template to render, if one was recognised.
        public var template: ChatTemplate? {
            if case .recognised(let template) = self { template } else { nil }
        }

        /// One line for `infill model info`.
        public var summary: String {
            switch self {
            case .absent: "none"
            case .unrecognised(let reason): "none (\(reason))"
            case .recognised(let t):
                t.family.rawValue + (t.beginToken.map { ", begins with \($0)" } ?? "")
                    + (t.defaultSystemPrompt.map { ", default system prompt \($0.debugDescription)" } ?? ", no default system prompt")
                    + (t.trimsContent ? ", content trimmed" : "")
            }
        }

        /// This recognition for a tokenizer: unrecognised when it lacks one of the template's
        /// special tokens (they must encode to their single ids, not to text).
        public func checked(against tokenizer: any Tokenizer) -> Recognition {
            guard case .recognised(let t) = self else { return self }
            if let missing = t.specialTokens.first(where: { tokenizer.specialTokenID($0) == nil }) {
                return .unrecognised("\(t.family.rawValue) template, but \(missing) is not a special token of the tokenizer")
            }
            return self
        }
    }

    /// Recognises a Jinja chat template's family from its markers.
    ///
    /// The template's output text (its string literals and the raw text between its tags) is
    /// searched for each family's markers: ChatML's `<|im_start|>assistant\n` and `<|im_end|>\n`,
    /// Llama 3's `<|start_header_id|>assistant<|end_header_id|>\n\n` and `<|eot_id|>`. The default
    /// system prompt is the one literal that is a whole system turn (`<|im_start|>system\n…<|im_end|>`);
    /// a Llama 3 template's begin token is a literal `<|begin_of_text|>`/`<|startoftext|>` or, where
    /// it writes `bos_token`, `beginToken` (the model's own, from its files).
    public static func recognise(_ source: String, beginToken: String?) -> Recognition {
        let scan = JinjaText(source)
        let output = scan.literals.joined()
        let chatML = output.contains("<|im_start|>") && output.contains("<|im_end|>")
        let llama3 = output.contains("<|start_header_id|>") && output.contains("<|eot_id|>")
        let trims = scan.code.filter { !$0.isWhitespace }.contains("|trim")
        switch (chatML, llama3) {
        case (true, true):
            return .unrecognised("the template mixes ChatML and Llama 3 markers")
        case (true, false):
            guard output.contains("<|im_start|>assistant\n"), output.contains("<|im_end|>\n") else {
                return .unrecognised("ChatML markers, but no '<|im_start|>assistant\\n' generation prompt or no newline after '<|im_end|>'")
            }
            let system = scan.literals.lazy.compactMap { systemTurn(in: $0, open: "<|im_start|>system\n", close: "<|im_end|>") }.first
            return .recognised(ChatTemplate(family: .chatML, defaultSystemPrompt: system, beginToken: nil, trimsContent: trims))
        case (false, true):
            guard output.contains("<|start_header_id|>assistant<|end_header_id|>\n\n") else {
                return .unrecognised("Llama 3 markers, but no '<|start_header_id|>assistant<|end_header_id|>\\n\\n' generation prompt")
            }
            let begin: String?
            if let literal = ["<|begin_of_text|>", "<|startoftext|>"].first(where: { output.contains($0) }) {
                begin = literal
            } else if scan.code.contains("bos_token") {
                guard let beginToken else { return .unrecognised("the template writes bos_token, which the model's files do not name") }
                begin = beginToken
            } else {
                begin = nil
            }
            let system = scan.literals.lazy.compactMap {
                systemTurn(in: $0, open: "<|start_header_id|>system<|end_header_id|>\n\n", close: "<|eot_id|>")
            }.first
            return .recognised(ChatTemplate(family: .llama3, defaultSystemPrompt: system, beginToken: begin, trimsContent: trims))
        case (false, false):
            return .unrecognised("neither ChatML nor Llama 3 markers")
        }
    }

    /// The prompt of a literal that is a whole system turn, `open` + prompt + `close` (+ "\n").
    private static func systemTurn(in literal: String, open: String, close: String) -> String? {
        var body = Substring(literal)
        guard body.hasPrefix(open) else { return nil }
        body = body.dropFirst(open.count)
        if body.hasSuffix("\n") { body = body.dropLast() }
        guard body.hasSuffix(close) else { return nil }
        body = body.dropLast(close.count)
        guard !body.isEmpty, !body.contains("<|") else { return nil }
        return String(body)
    }
}

/// The parts of a Jinja template's text that matter to ``ChatTemplate/recognise(_:beginToken:)``:
/// what it can output literally (raw text between tags, string literals inside them, escapes
/// decoded) and the code inside its tags with the literals taken out.
struct JinjaText {
    private(set) var literals: [String] = []
    private(set) var code = ""

    init(_ source: String) {
        let s = Array(source.unicodeScalars)
        var i = 0
        var raw = String.UnicodeScalarView()
        func flushRaw() {
            if !raw.isEmpty { literals.append(String(raw)) }
            raw = String.UnicodeScalarView()
        }
        while i < s.count {
            if s[i] == "{", i + 1 < s.count, s[i + 1] == "{" || s[i + 1] == "%" || s[i + 1] == "#" {
                let kind = s[i + 1]
                flushRaw()
                i += 2
                if kind == "#" {
                    while i + 1 < s.count, !(s[i] == "#" && s[i + 1] == "}") { i += 1 }
                    i += 2
                    continue
                }
                let close: Unicode.Scalar = kind == "{" ? "}" : "%"
                while i < s.count, !(s[i] == close && i + 1 < s.count && s[i + 1] == "}") {
                    if s[i] == "'" || s[i] == "\"" {
                        literals.append(Self.stringLiteral(s, at: &i))
                        code.unicodeScalars.append(" ")
                    } else {
                        code.unicodeScalars.append(s[i])
                        i += 1
                    }
                }
                code.unicodeScalars.append("\n")
                i += 2
            } else {
                raw.append(s[i])
                i += 1
            }
        }
        flushRaw()
    }

    /// The quoted string starting at `i`, its escapes decoded; `i` ends past the closing quote.
    private static func stringLiteral(_ s: [Unicode.Scalar], at i: inout Int) -> String {
        let quote = s[i]
        var out = String.UnicodeScalarView()
        i += 1
        while i < s.count, s[i] != quote {
            if s[i] == "\\", i + 1 < s.count {
                i += 1
                switch s[i] {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                default: out.append(s[i])
                }
            } else {
                out.append(s[i])
            }
            i += 1
        }
        i += 1
        return String(out)
    }
}
