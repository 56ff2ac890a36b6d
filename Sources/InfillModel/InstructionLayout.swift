/// Where a field's instruction goes on the canvas.
public enum InstructionLayout: String, Sendable, Hashable, CaseIterable {
    /// In parentheses directly before the field's gap.
    case inline
    /// In a user turn of the model's ``ChatTemplate`` before the document, which is the
    /// assistant's turn (a model without a recognised template falls back to ``inline``).
    case chat
}
