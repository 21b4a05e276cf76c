// Reads the safetensors checkpoint format as untrusted input: every length, offset and shape is
// checked before a byte of tensor data is touched, so a corrupt or hostile file yields one
// DataError line instead of a trap or an out-of-bounds read.
//
// Layout policy (same as the reference implementation): tensors must tile the data section
// exactly — sorted by offset, each starts where the previous ended, the last ends at the end of
// the file. Gaps are rejected as well as overlaps, because a gap means the header and the data
// disagree and some bytes belong to nothing.
import Foundation
import TILinalg

public enum TensorDType: String, CaseIterable, Sendable, Codable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}

public struct TensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// Byte range relative to the start of the data section (as written in the header).
    public let dataOffsets: Range<Int>
    public var elementCount: Int { shape.reduce(1, *) }
}

public struct SafeTensorsFile: Sendable {
    /// Largest header accepted; real headers are kilobytes, this only bounds hostile lengths.
    public static let maxHeaderBytes = 100_000_000

    /// Label used in error messages (normally the file path).
    public let name: String
    public let metadata: [String: String]
    /// Tensor names in data-section order.
    public let tensorNames: [String]
    private let tensors: [String: TensorInfo]
    private let data: Data
    private let dataStart: Int

    public static func read(url: URL) throws -> SafeTensorsFile {
        try SafeTensorsFile(data: try MappedFile.read(url), name: url.path)
    }

    public init(data: Data, name: String) throws {
        func bad(_ reason: String) -> DataError { .malformed(file: name, reason: reason) }
        // Data slices may not start at index 0; work on a zero-based copy of the indices.
        let bytes = data.startIndex == 0 ? data : Data(data)
        guard bytes.count >= 8 else {
            throw bad("file is \(bytes.count) bytes, too short for the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in (0..<8).reversed() { headerLength = headerLength << 8 | UInt64(bytes[i]) }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw bad("header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        let headerEnd = 8 + Int(headerLength)
        guard headerEnd <= bytes.count else {
            throw bad("header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
        }
        let headerBytes = [UInt8](bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw bad("header is not valid UTF-8")
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(headerBytes)
        } catch let e as JSONSyntaxError {
            throw bad("header is not valid JSON: \(e.message) at header byte \(e.offset)")
        }
        guard case .object(let members) = root else {
            throw bad("header must be a JSON object, found \(root.kind)")
        }

        var metadata: [String: String] = [:]
        var seenMetadata = false
        var infos: [String: TensorInfo] = [:]
        for (key, value) in members {
            if key == "__metadata__" {
                guard !seenMetadata else { throw bad("duplicate \"__metadata__\" entry") }
                seenMetadata = true
                metadata = try Self.parseMetadata(value, bad: bad)
                continue
            }
            guard infos[key] == nil else { throw bad("tensor '\(key)': duplicate name in header") }
            infos[key] = try Self.parseTensor(key, value, bad: bad)
        }

        let dataLength = bytes.count - headerEnd
        let ordered = infos.values.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name)
                < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
        }
        var expectedStart = 0
        var previous: TensorInfo?
        for t in ordered {
            let r = t.dataOffsets
            if r.lowerBound < expectedStart, let p = previous {
                throw bad("tensor '\(t.name)': data_offsets [\(r.lowerBound), \(r.upperBound)] overlap tensor '\(p.name)' [\(p.dataOffsets.lowerBound), \(p.dataOffsets.upperBound)]")
            }
            if r.lowerBound > expectedStart {
                throw bad("tensor '\(t.name)': data_offsets start at \(r.lowerBound) but the previous tensor ends at \(expectedStart) (gaps are not allowed)")
            }
            guard r.upperBound <= dataLength else {
                throw bad("tensor '\(t.name)': data_offsets [\(r.lowerBound), \(r.upperBound)] exceed the \(dataLength)-byte data section")
            }
            expectedStart = r.upperBound
            previous = t
        }
        guard expectedStart == dataLength else {
            throw bad("tensors cover \(expectedStart) bytes but the data section has \(dataLength) (trailing bytes belong to no tensor)")
        }

        self.name = name
        self.metadata = metadata
        self.tensorNames = ordered.map(\.name)
        self.tensors = infos
        self.data = bytes
        self.dataStart = headerEnd
    }

    /// Tensors already laid out in `data` (offsets from its start) by another reader, such as
    /// the pytorch_model.bin one, which validated them itself.
    init(name: String, metadata: [String: String], orderedTensors: [TensorInfo], data: Data) {
        self.name = name
        self.metadata = metadata
        self.tensorNames = orderedTensors.map(\.name)
        self.tensors = Dictionary(uniqueKeysWithValues: orderedTensors.map { ($0.name, $0) })
        self.data = data.startIndex == 0 ? data : Data(data)
        self.dataStart = 0
    }

    /// The same tensors with some renamed (`rename` maps old names to new ones that must not be
    /// taken), e.g. the LayerNorm gamma/beta of early BERT exports; the bytes are shared.
    func renamingTensors(_ rename: [String: String]) -> SafeTensorsFile {
        let infos = tensorNames.map { n in
            let t = tensors[n]!
            return TensorInfo(name: rename[n] ?? n, dtype: t.dtype, shape: t.shape,
                              dataOffsets: (dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound))
        }
        return SafeTensorsFile(name: name, metadata: metadata, orderedTensors: infos, data: data)
    }

    public func info(_ name: String) -> TensorInfo? { tensors[name] }

    /// Values converted to T. Float types convert exactly to Double (and F16/BF16 exactly to
    /// Float); integers and BOOL convert by value.
    public func values<T: BLASScalar>(_ tensorName: String, as: T.Type) throws -> [T] {
        let t = try lookup(tensorName)
        let n = t.elementCount
        // Same width and little-endian host: the bytes already are the values, copy them whole.
        #if _endian(little)
        if (t.dtype == .f32 && T.self == Float.self) || (t.dtype == .f64 && T.self == Double.self) {
            return withTensorBytes(t) { raw in
                [T](unsafeUninitializedCapacity: n) { buf, count in
                    if n > 0 { UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw) }
                    count = n
                }
            }
        }
        #endif
        return withTensorBytes(t) { raw in
            func load<U>(_ i: Int, _ u: U.Type) -> U { raw.loadUnaligned(fromByteOffset: i * MemoryLayout<U>.size, as: U.self) }
            switch t.dtype {
            case .f64: return (0..<n).map { T(Double(bitPattern: UInt64(littleEndian: load($0, UInt64.self)))) }
            case .f32: return (0..<n).map { T(Float(bitPattern: UInt32(littleEndian: load($0, UInt32.self)))) }
            case .f16: return (0..<n).map { T(HalfPrecision.float(fromHalf: UInt16(littleEndian: load($0, UInt16.self)))) }
            case .bf16: return (0..<n).map { T(HalfPrecision.float(fromBFloat: UInt16(littleEndian: load($0, UInt16.self)))) }
            case .i64: return (0..<n).map { T(Int64(littleEndian: load($0, Int64.self))) }
            case .i32: return (0..<n).map { T(Int32(littleEndian: load($0, Int32.self))) }
            case .i16: return (0..<n).map { T(Int16(littleEndian: load($0, Int16.self))) }
            case .i8: return (0..<n).map { T(load($0, Int8.self)) }
            case .u8: return (0..<n).map { T(load($0, UInt8.self)) }
            case .bool: return (0..<n).map { load($0, UInt8.self) != 0 ? 1 : 0 }
            }
        }
    }

    /// Integer tensors (I64/I32/I16/I8/U8/BOOL) as Int, e.g. token ids or quantized codes.
    public func intValues(_ tensorName: String) throws -> [Int] {
        let t = try lookup(tensorName)
        let n = t.elementCount
        let result: [Int]? = withTensorBytes(t) { raw in
            func load<U>(_ i: Int, _ u: U.Type) -> U { raw.loadUnaligned(fromByteOffset: i * MemoryLayout<U>.size, as: U.self) }
            switch t.dtype {
            case .i64: return (0..<n).map { Int(Int64(littleEndian: load($0, Int64.self))) }
            case .i32: return (0..<n).map { Int(Int32(littleEndian: load($0, Int32.self))) }
            case .i16: return (0..<n).map { Int(Int16(littleEndian: load($0, Int16.self))) }
            case .i8: return (0..<n).map { Int(load($0, Int8.self)) }
            case .u8: return (0..<n).map { Int(load($0, UInt8.self)) }
            case .bool: return (0..<n).map { load($0, UInt8.self) != 0 ? 1 : 0 }
            case .f64, .f32, .f16, .bf16: return nil
            }
        }
        guard let result else {
            throw DataError.mismatch(file: name, reason: "tensor '\(tensorName)': dtype \(t.dtype.rawValue) is not an integer type")
        }
        return result
    }

    /// The tensor's raw little-endian bytes.
    public func rawBytes(_ tensorName: String) throws -> Data {
        let t = try lookup(tensorName)
        return data.subdata(in: (dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound))
    }

    private func lookup(_ tensorName: String) throws -> TensorInfo {
        guard let t = tensors[tensorName] else {
            throw DataError.mismatch(file: name, reason: "no tensor named '\(tensorName)'")
        }
        return t
    }

    // Offsets were validated against the data section at init, so this slice is in bounds.
    private func withTensorBytes<R>(_ t: TensorInfo, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        data.withUnsafeBytes { all in
            body(UnsafeRawBufferPointer(rebasing: all[(dataStart + t.dataOffsets.lowerBound)..<(dataStart + t.dataOffsets.upperBound)]))
        }
    }

    private static func parseMetadata(_ value: JSONValue, bad: (String) -> DataError) throws -> [String: String] {
        guard case .object(let entries) = value else {
            throw bad("\"__metadata__\" must be an object of strings, found \(value.kind)")
        }
        var out: [String: String] = [:]
        for (k, v) in entries {
            guard case .string(let s) = v else { throw bad("\"__metadata__\" entry '\(k)' must be a string, found \(v.kind)") }
            out[k] = s
        }
        return out
    }

    private static func parseTensor(_ name: String, _ value: JSONValue, bad: (String) -> DataError) throws -> TensorInfo {
        func fail(_ reason: String) -> DataError { bad("tensor '\(name)': \(reason)") }
        guard case .object(let fields) = value else { throw fail("entry must be an object, found \(value.kind)") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: throw fail("unknown field '\(k)' (expected dtype, shape, data_offsets)")
            }
        }
        guard case .string(let dtypeName)? = dtypeValue else { throw fail("missing or non-string \"dtype\"") }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw fail("unknown dtype '\(dtypeName)' (expected one of \(TensorDType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard case .array(let dims)? = shapeValue else { throw fail("missing or non-array \"shape\"") }
        var shape: [Int] = []
        var count = 1
        for (i, d) in dims.enumerated() {
            guard let n = d.nonNegativeInt else { throw fail("shape[\(i)] must be a non-negative integer") }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape has too many elements for a 64-bit count") }
            shape.append(n)
            count = product
        }
        guard case .array(let offs)? = offsetsValue, offs.count == 2,
              let begin = offs[0].nonNegativeInt, let end = offs[1].nonNegativeInt else {
            throw fail("\"data_offsets\" must be two non-negative integers [begin, end]")
        }
        guard begin <= end else { throw fail("data_offsets [\(begin), \(end)] has begin after end") }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == end - begin else {
            throw fail("shape \(shape) of \(dtypeName) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataOffsets: begin..<end)
    }
}
