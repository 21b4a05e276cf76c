// Bridges checkpoints and the flat parameter buffer (TILinalg.ParameterLayout) every analysis
// works on, checking names and shapes once at the boundary so a wrong checkpoint fails here with
// the tensor named rather than as garbage weights later.
import Foundation
import TILinalg

extension SafeTensorsFile {
    /// Values of a tensor that must have exactly `shape`.
    public func values<T: BLASScalar>(_ tensorName: String, as type: T.Type, shape: [Int]) throws -> [T] {
        guard let info = info(tensorName) else {
            throw DataError.mismatch(file: name, reason: "no tensor named '\(tensorName)'")
        }
        guard info.shape == shape else {
            throw DataError.mismatch(file: name, reason: "tensor '\(tensorName)': expected shape \(shape), found \(info.shape)")
        }
        return try values(tensorName, as: type)
    }

    /// A flat buffer laid out by `layout`, each slot read from the tensor `tensorName(slot.name)`
    /// (the slot's own name by default) with exactly the slot's shape. Tensors in the file that
    /// no slot asks for are ignored.
    public func flatValues<T: BLASScalar>(layout: ParameterLayout, as type: T.Type,
                                          tensorName: (String) -> String = { $0 }) throws -> [T] {
        var flat = [T](repeating: 0, count: layout.count)
        for slot in layout.slots {
            let source = tensorName(slot.name)
            guard info(source) != nil else {
                throw DataError.mismatch(file: name, reason: "no tensor named '\(source)' (needed for parameter '\(slot.name)')")
            }
            let v = try values(source, as: type, shape: slot.shape)
            flat.replaceSubrange(slot.range, with: v)
        }
        return flat
    }
}

extension SafeTensorsWriter {
    /// Writes a flat buffer as one F32 tensor per layout slot, named `tensorName(slot.name)`.
    public static func write<T: BLASScalar>(flat: [T], layout: ParameterLayout, metadata: [String: String] = [:],
                                            to url: URL, tensorName: (String) -> String = { $0 }) throws {
        guard flat.count == layout.count else {
            throw DataError.mismatch(file: url.path, reason: "buffer has \(flat.count) values but the layout needs \(layout.count)")
        }
        let tensors = layout.slots.map { slot in
            Tensor.float32(tensorName(slot.name), shape: slot.shape, values: flat[slot.range].map { Float($0) })
        }
        try write(tensors, metadata: metadata, to: url)
    }
}
