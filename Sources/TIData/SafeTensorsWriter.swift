// Writes safetensors files the reference readers accept: header padded with spaces so the data
// section starts 8-byte aligned, tensors laid out widest dtype first so every tensor stays
// aligned even in mixed exports (int8 codes next to f32 scales), written atomically.
import Foundation

public enum SafeTensorsWriter {
    /// One tensor to write: its little-endian bytes plus the header fields describing them.
    public struct Tensor: Sendable {
        public let name: String
        public let dtype: TensorDType
        public let shape: [Int]
        public let values: Int
        public let bytes: Data

        public static func float32(_ name: String, shape: [Int], values: [Float]) -> Tensor {
            var d = Data(capacity: values.count * 4)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            return Tensor(name: name, dtype: .f32, shape: shape, values: values.count, bytes: d)
        }

        public static func float64(_ name: String, shape: [Int], values: [Double]) -> Tensor {
            var d = Data(capacity: values.count * 8)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            return Tensor(name: name, dtype: .f64, shape: shape, values: values.count, bytes: d)
        }

        public static func float16(_ name: String, shape: [Int], values: [Float]) -> Tensor {
            halfWidth(name, .f16, shape, values.map(HalfPrecision.half(from:)))
        }

        public static func bfloat16(_ name: String, shape: [Int], values: [Float]) -> Tensor {
            halfWidth(name, .bf16, shape, values.map(HalfPrecision.bfloat(from:)))
        }

        public static func int8(_ name: String, shape: [Int], values: [Int8]) -> Tensor {
            Tensor(name: name, dtype: .i8, shape: shape, values: values.count,
                   bytes: Data(values.map { UInt8(bitPattern: $0) }))
        }

        public static func int32(_ name: String, shape: [Int], values: [Int32]) -> Tensor {
            var d = Data(capacity: values.count * 4)
            for v in values { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
            return Tensor(name: name, dtype: .i32, shape: shape, values: values.count, bytes: d)
        }

        private static func halfWidth(_ name: String, _ dtype: TensorDType, _ shape: [Int], _ bits: [UInt16]) -> Tensor {
            var d = Data(capacity: bits.count * 2)
            for b in bits { withUnsafeBytes(of: b.littleEndian) { d.append(contentsOf: $0) } }
            return Tensor(name: name, dtype: dtype, shape: shape, values: bits.count, bytes: d)
        }
    }

    /// Writes F32 tensors.
    public static func write(tensors: [(name: String, shape: [Int], values: [Float])],
                             metadata: [String: String] = [:], to url: URL) throws {
        try write(tensors.map { Tensor.float32($0.name, shape: $0.shape, values: $0.values) }, metadata: metadata, to: url)
    }

    /// Writes I8 tensors (quantized codes).
    public static func write(int8Tensors: [(name: String, shape: [Int], values: [Int8])],
                             metadata: [String: String] = [:], to url: URL) throws {
        try write(int8Tensors.map { Tensor.int8($0.name, shape: $0.shape, values: $0.values) }, metadata: metadata, to: url)
    }

    /// Writes any mix of tensors.
    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(encode(tensors, metadata: metadata, file: url.path), to: url)
    }

    /// The complete file contents; `file` only labels errors.
    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:], file: String = "<memory>") throws -> Data {
        func bad(_ reason: String) -> DataError { .mismatch(file: file, reason: reason) }
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__" else { throw bad("tensor name '__metadata__' is reserved") }
            guard seen.insert(t.name).inserted else { throw bad("tensor '\(t.name)': duplicate name") }
            guard t.shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(t.name)': negative dimension in shape \(t.shape)") }
            let expected = t.shape.reduce(1, *)
            guard expected == t.values else {
                throw bad("tensor '\(t.name)': shape \(t.shape) needs \(expected) values, got \(t.values)")
            }
        }
        // Stable sort: widest elements first keeps every tensor naturally aligned.
        let ordered = tensors.enumerated()
            .sorted { ($1.element.dtype.byteSize, $0.offset) < ($0.element.dtype.byteSize, $1.offset) }
            .map(\.element)

        var header = "{"
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for t in ordered {
            let end = offset + t.bytes.count
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(jsonString(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        header += entries.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))

        var out = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        for t in ordered { out.append(t.bytes) }
        return out
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
