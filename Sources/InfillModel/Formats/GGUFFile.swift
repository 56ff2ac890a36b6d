/// A GGUF (v2/v3) model file: metadata, tensor directory and memory-mapped tensor data.
///
/// Opening validates the whole header: every string, array and tensor range must lie inside the
/// file, so a truncated or corrupt file fails here with a ``ModelFileError`` that names the byte
/// offset or tensor, never later with a crash.
public struct GGUFFile: Sendable {
    /// One entry of the tensor directory.
    public struct TensorInfo: Sendable, Equatable {
        /// Tensor name, such as `blk.0.attn_q.weight`.
        public let name: String
        /// Dimensions in GGUF order: `shape[0]` is the innermost (contiguous) one.
        public let shape: [Int]
        /// The numeric `ggml_type`.
        public let ggmlType: UInt32
        /// The decoded type, nil when this engine cannot dequantise it.
        public let type: TensorType?
        /// Offset of the data from the start of the file.
        public let fileOffset: Int
        /// Number of elements.
        public var elementCount: Int { shape.reduce(1, *) }
        /// GGUF's name for the storage type.
        public var typeName: String { TensorType.name(ofGGMLType: ggmlType) }
    }

    /// The file's path.
    public var path: String { file.path }
    /// Format version (2 or 3).
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// Tensor directory in file order.
    public let tensors: [TensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    private let metadataIndex: [String: Int]
    private let tensorIndex: [String: Int]
    private let file: MappedFile

    /// Opens and validates a GGUF file.
    /// - Throws: ``ModelFileError`` naming the file and the offset or tensor that is wrong.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        var reader = ByteReader(file: file)
        let magic = try reader.bytes(4, what: "magic")
        guard Array(magic) == Array("GGUF".utf8) else {
            throw ModelFileError(path, "not a GGUF file (bad magic at offset 0)")
        }
        version = try reader.read(UInt32.self, what: "version")
        guard version == 2 || version == 3 else {
            throw ModelFileError(path, "unsupported GGUF version \(version) (expected 3)")
        }
        let tensorCount = try reader.count(what: "tensor count", minimumBytesEach: 24)
        let metadataCount = try reader.count(what: "metadata count", minimumBytesEach: 12)

        var metadata: [(key: String, value: GGUFValue)] = []
        var metadataIndex: [String: Int] = [:]
        metadata.reserveCapacity(metadataCount)
        for _ in 0..<metadataCount {
            let keyOffset = reader.offset
            let key = try reader.string(what: "metadata key")
            let type = try reader.read(UInt32.self, what: "type of '\(key)'")
            let value = try reader.value(type: type, what: "value of '\(key)'", depth: 0)
            if metadataIndex[key] != nil {
                throw ModelFileError(path, "duplicate metadata key '\(key)' at offset \(keyOffset)")
            }
            metadataIndex[key] = metadata.count
            metadata.append((key, value))
        }
        self.metadata = metadata
        self.metadataIndex = metadataIndex

        var alignment = 32
        if let index = metadataIndex["general.alignment"] {
            guard let value = metadata[index].value.intValue, value > 0, value & (value - 1) == 0 else {
                throw ModelFileError(path, "general.alignment must be a power of two")
            }
            alignment = value
        }
        self.alignment = alignment

        struct RawInfo { var name: String; var shape: [Int]; var type: UInt32; var offset: UInt64; var at: Int }
        var raw: [RawInfo] = []
        raw.reserveCapacity(tensorCount)
        for _ in 0..<tensorCount {
            let at = reader.offset
            let name = try reader.string(what: "tensor name")
            let dimensions = try reader.read(UInt32.self, what: "dimension count of '\(name)'")
            guard (1...4).contains(dimensions) else {
                throw ModelFileError(path, "tensor '\(name)' at offset \(at): \(dimensions) dimensions (1 to 4 allowed)")
            }
            var shape: [Int] = []
            var elements = 1
            for _ in 0..<dimensions {
                let d = try reader.read(UInt64.self, what: "shape of '\(name)'")
                guard let size = Int(exactly: d), size > 0 else {
                    throw ModelFileError(path, "tensor '\(name)' at offset \(at): invalid dimension \(d)")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow, product <= file.count * 4 else {
                    throw ModelFileError(path, "tensor '\(name)' at offset \(at): shape too large")
                }
                elements = product
                shape.append(size)
            }
            let type = try reader.read(UInt32.self, what: "type of '\(name)'")
            let offset = try reader.read(UInt64.self, what: "data offset of '\(name)'")
            raw.append(RawInfo(name: name, shape: shape, type: type, offset: offset, at: at))
        }
        let dataStart = (reader.offset + alignment - 1) / alignment * alignment

        var tensors: [TensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        for info in raw {
            guard tensorIndex[info.name] == nil else {
                throw ModelFileError(path, "duplicate tensor '\(info.name)' at offset \(info.at)")
            }
            guard let relative = Int(exactly: info.offset), relative % alignment == 0 else {
                throw ModelFileError(path, "tensor '\(info.name)': data offset \(info.offset) is not aligned to \(alignment)")
            }
            let start = dataStart + relative
            let type = TensorType(ggmlType: info.type)
            if let type {
                let elements = info.shape.reduce(1, *)
                guard info.shape[0] % type.blockElements == 0, let bytes = type.byteCount(elements: elements) else {
                    throw ModelFileError(path, "tensor '\(info.name)': row of \(info.shape[0]) is not a whole number of \(type) blocks")
                }
                guard start <= file.count, bytes <= file.count - start else {
                    throw ModelFileError(
                        path, "truncated: tensor '\(info.name)' needs bytes \(start)..<\(start + bytes) but the file has \(file.count)")
                }
            }
            tensorIndex[info.name] = tensors.count
            tensors.append(TensorInfo(name: info.name, shape: info.shape, ggmlType: info.type, type: type, fileOffset: start))
        }
        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    /// The metadata value for `key`.
    public subscript(key: String) -> GGUFValue? {
        metadataIndex[key].map { metadata[$0].value }
    }

    /// The directory entry of tensor `name`.
    public func tensor(named name: String) -> TensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Tensor `name` dequantised to fp32, in GGUF order (row-major with `shape[0]` innermost).
    /// - Throws: ``ModelFileError`` if it is missing, of an unsupported type, or not of `shape` when given.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
        guard let info = tensor(named: name) else {
            throw ModelFileError(path, "missing tensor '\(name)'")
        }
        if let expected, expected != info.shape {
            throw ModelFileError(path, "tensor '\(name)' has shape \(info.shape), expected \(expected)")
        }
        guard let type = info.type, let bytes = type.byteCount(elements: info.elementCount),
              let data = file.bytes(at: info.fileOffset, count: bytes)
        else {
            throw ModelFileError(path, "tensor '\(name)' has unsupported type \(info.typeName) (supported: \(TensorType.supported.map(\.description).joined(separator: ", ")))")
        }
        return Dequantize.decode(type, from: data, count: info.elementCount)
    }

    /// Tensor `name` as a `rows × columns` matrix left in its stored encoding, read in place from the mapping.
    /// - Throws: ``ModelFileError`` if it is missing, of an unsupported type, or not of that shape.
    public func storedRows(_ name: String, rows: Int, columns: Int) throws -> StoredRows {
        guard let info = tensor(named: name) else {
            throw ModelFileError(path, "missing tensor '\(name)'")
        }
        guard info.shape == [columns, rows] else {
            throw ModelFileError(path, "tensor '\(name)' has shape \(info.shape), expected \([columns, rows])")
        }
        guard let type = info.type, let bytes = type.byteCount(elements: info.elementCount),
              let data = file.bytes(at: info.fileOffset, count: bytes)
        else {
            throw ModelFileError(path, "tensor '\(name)' has unsupported type \(info.typeName) (supported: \(TensorType.supported.map(\.description).joined(separator: ", ")))")
        }
        return StoredRows(owner: file, bytes: data, type: type, rows: rows, columns: columns)
    }

    /// Size of the file in bytes.
    public var fileSize: Int { file.count }
}

/// A bounds-checked little-endian cursor over a mapped GGUF header.
private struct ByteReader {
    let file: MappedFile
    var offset = 0

    init(file: MappedFile) { self.file = file }

    mutating func bytes(_ count: Int, what: String) throws -> UnsafeRawBufferPointer {
        guard let bytes = file.bytes(at: offset, count: count) else {
            throw ModelFileError(file.path, "truncated: \(what) at offset \(offset) needs \(count) bytes, the file has \(file.count)")
        }
        offset += count
        return bytes
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, what: String) throws -> T {
        let raw = try bytes(MemoryLayout<T>.size, what: what)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    /// A u64 count, bounded by what the rest of the file could hold.
    mutating func count(what: String, minimumBytesEach: Int) throws -> Int {
        let at = offset
        let value = try read(UInt64.self, what: what)
        guard let count = Int(exactly: value), count <= (file.count - offset) / max(minimumBytesEach, 1) else {
            throw ModelFileError(
                file.path, "truncated or corrupt: \(what) \(value) at offset \(at) needs more than the \(file.count - offset) bytes left in the file")
        }
        return count
    }

    mutating func string(what: String) throws -> String {
        let length = try count(what: "length of \(what)", minimumBytesEach: 1)
        let raw = try bytes(length, what: what)
        return String(decoding: raw, as: UTF8.self)
    }

    mutating func value(type: UInt32, what: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try read(UInt8.self, what: what))
        case 1: return .int8(try read(Int8.self, what: what))
        case 2: return .uint16(try read(UInt16.self, what: what))
        case 3: return .int16(try read(Int16.self, what: what))
        case 4: return .uint32(try read(UInt32.self, what: what))
        case 5: return .int32(try read(Int32.self, what: what))
        case 6: return .float32(Float(bitPattern: try read(UInt32.self, what: what)))
        case 7:
            let at = offset
            let byte = try read(UInt8.self, what: what)
            guard byte <= 1 else { throw ModelFileError(file.path, "corrupt bool \(byte) for \(what) at offset \(at)") }
            return .bool(byte == 1)
        case 8: return .string(try string(what: what))
        case 9:
            let at = offset
            guard depth < 4 else { throw ModelFileError(file.path, "arrays nested too deeply for \(what) at offset \(at)") }
            let elementType = try read(UInt32.self, what: "element type of \(what)")
            let minimum = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8][elementType]
            guard let minimum else {
                throw ModelFileError(file.path, "unknown element type \(elementType) for \(what) at offset \(at)")
            }
            let n = try count(what: "length of \(what)", minimumBytesEach: minimum)
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try value(type: elementType, what: what, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try read(UInt64.self, what: what))
        case 11: return .int64(try read(Int64.self, what: what))
        case 12: return .float64(Double(bitPattern: try read(UInt64.self, what: what)))
        default:
            throw ModelFileError(file.path, "unknown metadata type \(type) for \(what) at offset \(offset - 4)")
        }
    }
}
