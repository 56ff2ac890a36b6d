import InfillModel

extension PlannedField {
    /// What the field asks the model for in words: its own `instruction`, else its tone's; nil
    /// when neither says anything.
    public var instruction: String? {
        guard let text = spec.instruction ?? tone?.instruction, !text.isEmpty else { return nil }
        return text
    }

    /// The field's instruction as ``InstructionLayout/inline`` puts it, to follow `before` (the
    /// text up to the gap, its trailing spaces already dropped for an in-line field): in
    /// parentheses, after a space unless `before` ends a line or a word, and, for a block field,
    /// on a line of its own before the gap.
    public func inlineInstruction(after before: UInt8?) -> String? {
        guard let instruction else { return nil }
        let needsSpace = !(before.map { $0 == 0x0A || $0 == 0x20 } ?? true)
        return (needsSpace ? " " : "") + "(" + instruction + ")" + (isInline ? "" : "\n")
    }
}

/// The chat turns around a canvas whose instructions go through the model's chat template
/// (``InstructionLayout/chat``): a user turn that asks for the fields, then the assistant's turn,
/// which holds the document with its gaps.
///
/// The diffusion canvas (``CanvasLayout``) and the quality benchmark's autoregressive baseline
/// both frame their text with it, so they see the same prefix, and so does the parent that
/// guides the sampler (it reads the canvas before the gap).
public struct InstructionTurn: Sendable, Hashable {
    /// The conversation before the document: begin token, default system turn, the user turn,
    /// the assistant's header.
    public var start: [ChatTemplate.Piece]
    /// What closes the assistant's turn after the document.
    public var end: [ChatTemplate.Piece]

    /// The turns for `fields` (the fields one canvas fills), or nil — the canvas stays as it is
    /// — when the layout is ``InstructionLayout/inline``, there is no template, or no field has
    /// an instruction.
    public init?(fields: [PlannedField], template: ChatTemplate?, layout: InstructionLayout) {
        guard layout == .chat, let template, let user = Self.request(for: fields) else { return nil }
        start = template.conversationStart(user: user)
        end = template.assistantEnd
    }

    /// The user's request: "Fill in the document." and a line "label: instruction" for each
    /// field with an instruction (the label is the field's name, `_` and `-` read as spaces);
    /// nil when no field has one.
    public static func request(for fields: [PlannedField]) -> String? {
        let lines = fields.compactMap { field in
            field.instruction.map { label(of: field) + ": " + $0 }
        }
        guard !lines.isEmpty else { return nil }
        return (["Fill in the document."] + lines).joined(separator: "\n")
    }

    private static func label(of field: PlannedField) -> String {
        String(field.name.map { $0 == "_" || $0 == "-" ? " " : $0 })
    }
}
