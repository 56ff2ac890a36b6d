import InfillModel
import InfillSampling

/// The model's view of a document for one sampling unit: context runs and the unit's gaps.
///
/// Fields of the unit become gaps; fields filled earlier appear as their text; fields still to
/// come are left out. An in-line gap's preceding spaces are left out of the context (BPE
/// tokenizers attach a space to the following word, so the gap generates it); a field's
/// instruction goes in parentheses directly before its gap. When the document is longer than the
/// model's canvas, ``window(maxLength:)`` keeps the gap and as much context around it as fits,
/// two thirds before it.
struct CanvasLayout {
    enum Item {
        case context([TokenID])
        case gap(field: Int, length: Int, GapConstraints)
    }

    var items: [Item]

    /// The fields of the gaps, in canvas order.
    var gapFields: [Int] {
        items.compactMap { if case .gap(let f, _, _) = $0 { f } else { nil } }
    }

    var length: Int {
        items.reduce(0) { total, item in
            switch item {
            case .context(let ids): total + ids.count
            case .gap(_, let length, _): total + length
            }
        }
    }

    static func build(
        plan: DocumentPlan, unit: [Int], filled: [Int: String], compiled: [Int: CompiledField],
        tokenizer: any Tokenizer
    ) -> CanvasLayout {
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
                    if let instruction = planned.spec.instruction ?? planned.tone?.instruction, !instruction.isEmpty {
                        let needsSpace = !(pending.last.map { $0 == 0x0A || $0 == 0x20 } ?? true)
                        pending += Array(((needsSpace ? " " : "") + "(" + instruction + ")" + (planned.isInline ? "" : "\n")).utf8)
                    }
                    flush()
                    items.append(.gap(field: index, length: field.budget.maskTokens, field.constraints))
                }
            }
        }
        flush()
        return CanvasLayout(items: items)
    }

    /// This layout with each gap's length and constraints taken again from `compiled`, the
    /// context kept as it was tokenised: what a unit's next attempt samples after its budgets
    /// were re-tuned, without encoding the document again.
    func rebudgeted(_ compiled: [Int: CompiledField]) -> CanvasLayout {
        CanvasLayout(items: items.map { item in
            guard case .gap(let field, _, _) = item, let budget = compiled[field] else { return item }
            return .gap(field: field, length: budget.budget.maskTokens, budget.constraints)
        })
    }

    /// For a layout with exactly one gap: the gap with as much context as fits in `maxLength`.
    func window(maxLength: Int) -> CanvasLayout {
        guard length > maxLength, let g = items.firstIndex(where: { if case .gap = $0 { true } else { false } }),
              case .gap(_, let gapLength, _) = items[g] else { return self }
        func tokens(_ slice: ArraySlice<Item>) -> [TokenID] {
            slice.flatMap { item -> [TokenID] in if case .context(let ids) = item { ids } else { [] } }
        }
        let left = tokens(items[..<g]), right = tokens(items[(g + 1)...])
        let room = max(0, maxLength - gapLength)
        let keepRight = min(right.count, max(room / 3, room - left.count))
        let keepLeft = min(left.count, room - keepRight)
        return CanvasLayout(items: [.context(Array(left.suffix(keepLeft))), items[g], .context(Array(right.prefix(keepRight)))])
    }

    /// The sampler's canvas, after the model's start token if it has one.
    func canvas(maskTokenID: TokenID, startTokenID: TokenID?, seed: UInt64) -> Canvas {
        let body: [CanvasSegment] = items.map { item in
            switch item {
            case .context(let ids): .context(ids)
            case .gap(_, let length, let constraints): .gap(length: length, constraints)
            }
        }
        return Canvas(segments: (startTokenID.map { [.context([$0])] } ?? []) + body, maskTokenID: maskTokenID, seed: seed)
    }
}
