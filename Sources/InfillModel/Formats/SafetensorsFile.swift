import Foundation

/// A memory-mapped `.safetensors` file: a JSON header naming each tensor's dtype, shape and byte range.
///
/// Opening validates the header and every tensor's byte range, so truncated or corrupt files fail
/// with a ``ModelFileError`` naming the file and the tensor.
public struct SafetensorsFile: Sendable {
    /// One entry of the header.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        /// The dtype string as stored (`F32`, `BF16`, `I64`, …).
        public let dtype: String
        /// Dimensions, outermost first (row-major).
        public let shape: [Int]
        /// Offset of the data from the start of the file.
        public let fileOffset: Int
        /// Length of the data in bytes.
        public let byteCount: Int
        public var elementCount: Int { shape.reduce(1, *) }
    }

    public var path: String { file.path }
    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The optional `__metadata__` string map.
    public let metadata: [String: String]
    private let file: MappedFile

    /// Bytes per element of the dtypes this reader accepts.
    static let elementSizes: [String: Int] = [
        "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F64": 8,
    ]

    /// Opens and validates a safetensors file.
    public init(path: String) throws {
        let file = try MappedFile(path: path)
        self.file = file
        guard let lengthBytes = file.bytes(at: 0, count: 8) else {
            throw ModelFileError(path, "truncated: no safetensors header length (file has \(file.count) bytes)")
        }
        let length = UInt64(littleEndian: lengthBytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(file.count - 8), let header = file.bytes(at: 8, count: Int(length)) else {
            throw ModelFileError(path, "truncated or corrupt: header length \(length) exceeds the file size \(file.count)")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(header))
        } catch {
            throw ModelFileError(path, "corrupt safetensors header (bytes 8..<\(8 + length)): not valid JSON")
        }
        guard let entries = json as? [String: Any] else {
            throw ModelFileError(path, "corrupt safetensors header: not a JSON object")
        }
        let dataStart = 8 + Int(length)
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in entries {
            if name == "__metadata__" {
                if let map = entry as? [String: Any] {
                    for (k, v) in map { metadata[k] = v as? String ?? "\(v)" }
                }
                continue
            }
            guard let entry = entry as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any], let offsets = entry["data_offsets"] as? [Any],
                  offsets.count == 2
            else {
                throw ModelFileError(path, "corrupt header entry for tensor '\(name)'")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            let bounds = offsets.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }), bounds.count == 2,
                  bounds[0] >= 0, bounds[1] >= bounds[0]
            else {
                throw ModelFileError(path, "corrupt shape or data_offsets for tensor '\(name)'")
            }
            guard let size = Self.elementSizes[dtype] else {
                throw ModelFileError(path, "tensor '\(name)' has unsupported dtype \(dtype)")
            }
            var elements = 1
            for d in shape {
                let (p, o) = elements.multipliedReportingOverflow(by: d)
                guard !o else { throw ModelFileError(path, "tensor '\(name)': shape \(shape) overflows") }
                elements = p
            }
            guard bounds[1] - bounds[0] == elements * size else {
                throw ModelFileError(path, "tensor '\(name)': \(bounds[1] - bounds[0]) bytes for shape \(shape) of \(dtype)")
            }
            guard dataStart + bounds[1] <= file.count else {
                throw ModelFileError(
                    path, "truncated: tensor '\(name)' needs bytes up to \(dataStart + bounds[1]) but the file has \(file.count)")
            }
            tensors[name] = TensorInfo(
                name: name, dtype: dtype, shape: shape, fileOffset: dataStart + bounds[0], byteCount: bounds[1] - bounds[0])
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Tensor `name` as fp32 (F32, F16 or BF16 storage).
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw ModelFileError(path, "missing tensor '\(name)'") }
        let type: TensorType
        switch info.dtype {
        case "F32": type = .f32
        case "F16": type = .f16
        case "BF16": type = .bf16
        default: throw ModelFileError(path, "tensor '\(name)' has dtype \(info.dtype); expected F32, F16 or BF16")
        }
        guard let bytes = file.bytes(at: info.fileOffset, count: info.byteCount) else {
            throw ModelFileError(path, "truncated: tensor '\(name)'")
        }
        return Dequantize.decode(type, from: bytes, count: info.elementCount)
    }

    /// Tensor `name` (F32, F16 or BF16) as a `rows × columns` matrix left in its stored encoding,
    /// read in place from the mapping.
    public func storedRows(_ name: String, rows: Int, columns: Int) throws -> StoredRows {
        guard let info = tensors[name] else { throw ModelFileError(path, "missing tensor '\(name)'") }
        let types: [String: TensorType] = ["F32": .f32, "F16": .f16, "BF16": .bf16]
        guard let type = types[info.dtype] else {
            throw ModelFileError(path, "tensor '\(name)' has dtype \(info.dtype); expected F32, F16 or BF16")
        }
        guard info.elementCount == rows * columns, let bytes = file.bytes(at: info.fileOffset, count: info.byteCount) else {
            throw ModelFileError(path, "tensor '\(name)' has shape \(info.shape), expected [\(rows), \(columns)]")
        }
        return StoredRows(owner: file, bytes: bytes, type: type, rows: rows, columns: columns)
    }

    /// Tensor `name` as integers (I32 or I64 storage).
    public func integers(_ name: String) throws -> [Int] {
        guard let info = tensors[name] else { throw ModelFileError(path, "missing tensor '\(name)'") }
        guard let bytes = file.bytes(at: info.fileOffset, count: info.byteCount) else {
            throw ModelFileError(path, "truncated: tensor '\(name)'")
        }
        switch info.dtype {
        case "I32": return (0..<info.elementCount).map { Int(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) }
        case "I64": return (0..<info.elementCount).map { Int(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
        default: throw ModelFileError(path, "tensor '\(name)' has dtype \(info.dtype); expected I32 or I64")
        }
    }
}
