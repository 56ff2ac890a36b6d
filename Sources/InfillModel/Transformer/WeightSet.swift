/// A named collection of fp32 weight matrices in Hugging Face naming and layout.
///
/// Every reader fills one of these (GGUF names are translated, GGUF's interleaved q/k rows are
/// put back in HF order); adapters are merged into it; ``TransformerWeights`` then fuses it into
/// the layout the forward pass uses.
public struct WeightSet: Sendable {
    /// A row-major matrix (`rows × columns`); a vector has one row.
    public struct Matrix: Sendable {
        public var rows: Int
        public var columns: Int
        public var values: [Float]

        public init(rows: Int, columns: Int, values: [Float]) {
            self.rows = rows
            self.columns = columns
            self.values = values
        }
    }

    /// Matrices by HF name (`model.layers.0.self_attn.q_proj.weight`, …).
    public var matrices: [String: Matrix] = [:]
    /// Matrices kept in their stored encoding, by HF name (a name is in one dictionary or the other).
    public var stored: [String: StoredRows] = [:]
    /// Where the weights came from, for error messages.
    public var source: String

    public init(source: String) { self.source = source }

    /// Takes matrix `name` out of the set, checking its shape.
    mutating func take(_ name: String, rows: Int, columns: Int) throws -> [Float] {
        guard let matrix = matrices.removeValue(forKey: name) else {
            throw ModelFileError(source, "missing tensor '\(name)'")
        }
        guard matrix.rows == rows, matrix.columns == columns else {
            throw ModelFileError(source, "tensor '\(name)' is \(matrix.rows)x\(matrix.columns), expected \(rows)x\(columns)")
        }
        return matrix.values
    }

    /// Takes matrix `name` in whichever form it is held, checking its shape.
    mutating func takeMatrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
        if let part = stored.removeValue(forKey: name) {
            guard part.rows == rows, part.columns == columns else {
                throw ModelFileError(source, "tensor '\(name)' is \(part.rows)x\(part.columns), expected \(rows)x\(columns)")
            }
            return WeightMatrix(stacking: [part])
        }
        return WeightMatrix(rows: rows, columns: columns, values: try take(name, rows: rows, columns: columns))
    }

    /// Takes matrices `names` and stacks their rows: one fp32 array when all are fp32, stored
    /// segments otherwise (fp32 parts copied into F32 segments).
    mutating func takeStacked(_ names: [(String, Int)], columns: Int) throws -> WeightMatrix {
        if names.allSatisfy({ stored[$0.0] == nil }) {
            var values: [Float] = []
            for (name, rows) in names { values += try take(name, rows: rows, columns: columns) }
            return WeightMatrix(rows: names.reduce(0) { $0 + $1.1 }, columns: columns, values: values)
        }
        var parts: [StoredRows] = []
        for (name, rows) in names {
            let matrix = try takeMatrix(name, rows: rows, columns: columns)
            parts += matrix.isStored ? matrix.segments : [StoredRows.copying(matrix.dense ?? [], rows: rows, columns: columns)]
        }
        return WeightMatrix(stacking: parts)
    }

    /// Takes a vector of `count` values.
    mutating func takeVector(_ name: String, count: Int) throws -> [Float] {
        guard let matrix = matrices.removeValue(forKey: name) else {
            throw ModelFileError(source, "missing tensor '\(name)'")
        }
        guard matrix.values.count == count else {
            throw ModelFileError(source, "tensor '\(name)' has \(matrix.values.count) values, expected \(count)")
        }
        return matrix.values
    }

    /// HF name of a layer tensor, e.g. `layer(3, "self_attn.q_proj.weight")`.
    public static func layer(_ index: Int, _ suffix: String) -> String { "model.layers.\(index).\(suffix)" }
}
