import InfillModel
import InfillSampling

/// The model's view of a document for one sampling unit: context runs and the unit's gaps.
///
/// Fields of the unit become gaps; fields filled earlier appear as their text; fields still to
/// come are left out. An in-line gap's preceding spaces are left out of the context (BPE
/// tokenizers attach a space to the following word, so the gap generates it). A field's
/// instruction goes in parentheses directly before its gap (``InstructionLayout/inline``), or,
/// with ``InstructionLayout/chat`` and a model with a chat template, into a user turn before the
/// document, which is then the assistant's turn (``InstructionTurn``: the ``header`` and
/// ``footer``); a unit without instructions has no chat turns either way. When the document is
/// longer than the model's canvas, ``window(maxLength:)`` keeps the gap, the chat turns and as
/// much context around the gap as fits, two thirds before it.
struct CanvasLayout {
    enum Item {
        case context([TokenID])
        case gap(field: Int, length: Int, GapConstraints)
    }

    var items: [Item]
    /// The conversation before the document (empty without chat turns).
    var header: [TokenID] = []
    /// What closes the assistant's turn after the document (empty without chat turns).
    var footer: [TokenID] = []

    /// The fields of the gaps, in canvas order.
    var gapFields: [Int] {
        items.compactMap { if case .gap(let f, _, _) = $0 { f } else { nil } }
    }

    var length: Int {
        items.reduce(header.count + footer.count) { total, item in
            switch item {
            case .context(let ids): total + ids.count
            case .gap(_, let length, _): total + length
            }
        }
    }

    /// The layout of `unit`'s canvas; `template` and `layout` say where instructions go (chat
    /// turns only when both allow them and the tokenizer has the template's special tokens).
    static func build(
        plan: DocumentPlan, unit: [Int], filled: [Int: String], compiled: [Int: CompiledField],
        tokenizer: any Tokenizer, template: ChatTemplate? = nil, layout: InstructionLayout = .inline
    ) -> CanvasLayout {
        let turn = InstructionTurn(fields: unit.map { plan.fields[$0] }, template: template, layout: layout)
        let chat = turn.flatMap { turn -> (header: [TokenID], footer: [TokenID])? in
            guard let header = ChatTemplate.encode(turn.start, tokenizer: tokenizer),
                  let footer = ChatTemplate.encode(turn.end, tokenizer: tokenizer) else { return nil }
            return (header, footer)
        }
        var items: [Item] = []
        var pending: [UInt8] = []
        func flush() {
            if !pending.isEmpty { items.append(.context(tokenizer.encode(String(decoding: pending, as: UTF8.self)))) }
            pending = []
        }
        for piece in plan.pieces {
            switch piece {
            case .text(let bytes):
                pending += bytes
            case .field(let index):
                if let text = filled[index] {
                    pending += Array(text.utf8)
                } else if unit.contains(index), let field = compiled[index] {
                    let planned = plan.fields[index]
                    if planned.isInline {
                        while let last = pending.last, last == 0x20 || last == 0x09 { pending.removeLast() }
                    }
                    if chat == nil, let instruction = planned.inlineInstruction(after: pending.last) {
                        pending += Array(instruction.utf8)
                    }
                    flush()
                    items.append(.gap(field: index, length: field.budget.maskTokens, field.constraints))
                }
            }
        }
        flush()
        return CanvasLayout(items: items, header: chat?.header ?? [], footer: chat?.footer ?? [])
    }

    /// This layout with each gap's length and constraints taken again from `compiled`, the
    /// context kept as it was tokenised: what a unit's next attempt samples after its budgets
    /// were re-tuned, without encoding the document again.
    func rebudgeted(_ compiled: [Int: CompiledField]) -> CanvasLayout {
        CanvasLayout(items: items.map { item in
            guard case .gap(let field, _, _) = item, let budget = compiled[field] else { return item }
            return .gap(field: field, length: budget.budget.maskTokens, budget.constraints)
        }, header: header, footer: footer)
    }

    /// For a layout with exactly one gap: the gap and the chat turns with as much context as
    /// fits in `maxLength`.
    func window(maxLength: Int) -> CanvasLayout {
        guard length > maxLength, let g = items.firstIndex(where: { if case .gap = $0 { true } else { false } }),
              case .gap(_, let gapLength, _) = items[g] else { return self }
        func tokens(_ slice: ArraySlice<Item>) -> [TokenID] {
            slice.flatMap { item -> [TokenID] in if case .context(let ids) = item { ids } else { [] } }
        }
        let left = tokens(items[..<g]), right = tokens(items[(g + 1)...])
        let room = max(0, maxLength - gapLength - header.count - footer.count)
        let keepRight = min(right.count, max(room / 3, room - left.count))
        let keepLeft = min(left.count, room - keepRight)
        return CanvasLayout(items: [.context(Array(left.suffix(keepLeft))), items[g], .context(Array(right.prefix(keepRight)))],
                            header: header, footer: footer)
    }

    /// The sampler's canvas, after the model's start token if it has one: the chat turns'
    /// ``header`` (context, so the parent reads it too), the items, the ``footer``.
    func canvas(maskTokenID: TokenID, startTokenID: TokenID?, seed: UInt64) -> Canvas {
        let body: [CanvasSegment] = items.map { item in
            switch item {
            case .context(let ids): .context(ids)
            case .gap(_, let length, let constraints): .gap(length: length, constraints)
            }
        }
        let start = (startTokenID.map { [$0] } ?? []) + header
        return Canvas(segments: (start.isEmpty ? [] : [.context(start)]) + body + (footer.isEmpty ? [] : [.context(footer)]),
                      maskTokenID: maskTokenID, seed: seed)
    }
}
