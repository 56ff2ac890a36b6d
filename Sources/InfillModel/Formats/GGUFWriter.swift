import Foundation

/// Writes a GGUF v3 file: metadata, a tensor directory and aligned tensor data, in the layout
/// ``GGUFFile`` (and llama.cpp) reads.
///
/// Tensors are encoded one at a time while the file is written, so exporting a model needs memory
/// for one tensor's bytes, not the whole file. The file appears at its path only when complete
/// (written beside it, then renamed), so a full disk or an interrupted export leaves no half file
/// that a loader would later reject with a confusing message.
public struct GGUFWriter {
    /// One tensor to write: its GGUF name and shape (innermost dimension first), the encoding
    /// to store it in, and its fp32 values in GGUF order.
    public struct Tensor {
        public let name: String
        public let shape: [Int]
        public let type: TensorType
        /// Produces the fp32 values when the tensor is written (so only one is alive at a time).
        public let values: () throws -> [Float]

        public init(name: String, shape: [Int], type: TensorType, values: @escaping () throws -> [Float]) {
            self.name = name
            self.shape = shape
            self.type = type
            self.values = values
        }
    }

    /// Encodings the writer can produce.
    public static let writableTypes: [TensorType] = [.f32, .f16, .bf16]

    public var metadata: [(key: String, value: GGUFValue)] = []
    public var tensors: [Tensor] = []
    /// Alignment of tensor data (GGUF's default).
    public let alignment = 32

    public init() {}

    /// Writes the file to `path`.
    /// - Throws: ``ModelFileError`` naming `path` for an unwritable folder, a full disk, a
    ///   duplicate key or tensor, or an encoding the writer cannot produce.
    public func write(to path: String) throws {
        var seen = Set<String>()
        for (key, _) in metadata where !seen.insert(key).inserted {
            throw ModelFileError(path, "duplicate metadata key '\(key)'")
        }
        seen = []
        for tensor in tensors {
            guard seen.insert(tensor.name).inserted else { throw ModelFileError(path, "duplicate tensor '\(tensor.name)'") }
            guard Self.writableTypes.contains(tensor.type) else {
                throw ModelFileError(path, "tensor '\(tensor.name)': cannot encode \(tensor.type) (writable: f32, f16, bf16)")
            }
        }

        var header = ByteBuffer()
        header.append(contentsOf: Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (key, value) in metadata {
            header.append(string: key)
            header.append(UInt32(Self.typeCode(value)))
            header.append(value: value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            header.append(string: tensor.name)
            header.append(UInt32(tensor.shape.count))
            for d in tensor.shape { header.append(UInt64(d)) }
            header.append(UInt32(Self.ggmlType(tensor.type)))
            header.append(UInt64(offset))
            offsets.append(offset)
            let bytes = tensor.type.byteCount(elements: tensor.shape.reduce(1, *)) ?? 0
            offset = (offset + bytes + alignment - 1) / alignment * alignment
        }
        header.pad(to: alignment)

        let partial = path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial)
        else {
            throw ModelFileError(path, "cannot create the file (is the folder there and writable?)")
        }
        do {
            defer { try? handle.close() }
            try handle.write(contentsOf: header.bytes)
            var written = 0
            for (tensor, start) in zip(tensors, offsets) {
                if start > written { try handle.write(contentsOf: Data(count: start - written)) }
                let values = try tensor.values()
                let elements = tensor.shape.reduce(1, *)
                guard values.count == elements else {
                    throw ModelFileError(path, "tensor '\(tensor.name)': \(values.count) values for shape \(tensor.shape)")
                }
                let data = Self.encode(values, as: tensor.type)
                try handle.write(contentsOf: data)
                written = start + data.count
            }
            if offset > written { try handle.write(contentsOf: Data(count: offset - written)) }
            try handle.synchronize()
        } catch let error as ModelFileError {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw ModelFileError(path, "write failed (\(error.localizedDescription)); is the disk full?")
        }
        if FileManager.default.fileExists(atPath: path) { try? FileManager.default.removeItem(atPath: path) }
        do {
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw ModelFileError(path, "cannot move the finished file into place (\(error.localizedDescription))")
        }
    }

    /// `values` in `type`'s little-endian encoding (f32, f16, or bf16 rounded to nearest even).
    static func encode(_ values: [Float], as type: TensorType) -> Data {
        switch type {
        case .f16:
            var out = [UInt16](repeating: 0, count: values.count)
            for i in values.indices { out[i] = Float16(values[i]).bitPattern.littleEndian }
            return out.withUnsafeBytes { Data($0) }
        case .bf16:
            var out = [UInt16](repeating: 0, count: values.count)
            for i in values.indices {
                let bits = values[i].bitPattern
                if values[i].isNaN {
                    out[i] = UInt16(truncatingIfNeeded: (bits >> 16) | 0x40).littleEndian
                } else {
                    let rounding = 0x7FFF + ((bits >> 16) & 1)
                    out[i] = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16).littleEndian
                }
            }
            return out.withUnsafeBytes { Data($0) }
        default:
            return values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        }
    }

    /// GGUF's numeric `ggml_type` of a writable type.
    static func ggmlType(_ type: TensorType) -> Int {
        switch type {
        case .f16: 1
        case .bf16: 30
        default: 0
        }
    }

    /// GGUF's value-type code (0–12) of `value`.
    static func typeCode(_ value: GGUFValue) -> Int {
        switch value {
        case .uint8: 0
        case .int8: 1
        case .uint16: 2
        case .int16: 3
        case .uint32: 4
        case .int32: 5
        case .float32: 6
        case .bool: 7
        case .string: 8
        case .array: 9
        case .uint64: 10
        case .int64: 11
        case .float64: 12
        }
    }
}

/// A growing little-endian byte buffer for the GGUF header.
private struct ByteBuffer {
    var bytes: [UInt8] = []

    mutating func append(contentsOf other: [UInt8]) { bytes += other }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func append(string: String) {
        let utf8 = Array(string.utf8)
        append(UInt64(utf8.count))
        bytes += utf8
    }

    mutating func append(value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let s): append(string: s)
        case .array(let items):
            // An empty array's element type is not recorded anywhere else; u8 reads back as empty.
            append(UInt32(items.first.map(GGUFWriter.typeCode) ?? 0))
            append(UInt64(items.count))
            for item in items { append(value: item) }
        }
    }

    mutating func pad(to alignment: Int) {
        let padded = (bytes.count + alignment - 1) / alignment * alignment
        bytes += [UInt8](repeating: 0, count: padded - bytes.count)
    }
}
