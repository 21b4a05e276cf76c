// The model-size budget of a bit allocation and the sizes it is compared with, all in exact bytes
// (ModelSize.storedBytes): the quantized tensors at their precisions plus every other tensor in f32.
import TILinalg
import TIData
import TICore

public enum SizeBudget: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The whole stored model, in MB of 10⁶ bytes.
    case megabytes(Double)
    /// Bits per weight of the quantized tensors, as if every one were stored at that width (scales included).
    case averageBits(Double)

    public var description: String {
        switch self {
        case .megabytes(let m): return "\(m) MB"
        case .averageBits(let b): return "\(b) bits per weight"
        }
    }

    /// Refuses a budget outside its domain, before any work.
    public func validate() throws {
        switch self {
        case .megabytes(let m):
            try OptionChecks.require(m.isFinite && m > 0 && m < 1e9, .sizeBudget, m, "a positive size in MB")
        case .averageBits(let b):
            try OptionChecks.require(b.isFinite && b >= 2 && b <= 32, .sizeBudget, b, "an average of 2 to 32 bits per weight")
        }
    }

    /// The budget in bytes for a model whose `tensors` get precisions and whose other tensors weigh `rest` bytes.
    public func bytes(tensors: [ParameterSlot], rest: Int) -> Int {
        switch self {
        case .megabytes(let m): return Int((m * 1e6).rounded(.down))
        case .averageBits(let b):
            return rest + tensors.reduce(0) { sum, slot in
                let scales = ModelSize.storedBytes(slot, precision: .ternary) - (slot.count * 2 + 7) / 8
                return sum + Int((Double(slot.count) * b / 8).rounded(.up)) + scales
            }
        }
    }
}

extension SizeBudget {
    private enum Key: String, CodingKey { case kind, value }

    /// Written as {"kind": "megabytes" | "avg-bits", "value": v}.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let v = try c.decode(Double.self, forKey: .value)
        switch try c.decode(String.self, forKey: .kind) {
        case "megabytes": self = .megabytes(v)
        case "avg-bits": self = .averageBits(v)
        case let k: throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "'\(k)': expected megabytes or avg-bits")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .megabytes(let m): try c.encode("megabytes", forKey: .kind); try c.encode(m, forKey: .value)
        case .averageBits(let b): try c.encode("avg-bits", forKey: .kind); try c.encode(b, forKey: .value)
        }
    }
}

/// The sizes an allocation over `tensors` of a model's layout chooses among.
public struct AllocationSizes: Sendable {
    public let tensors: [ParameterSlot]
    /// Bytes of every tensor that gets no precision (f32).
    public let rest: Int

    public init(layout: ParameterLayout, tensors: [ParameterSlot]) {
        self.tensors = tensors
        let names = Set(tensors.map(\.name))
        rest = layout.slots.filter { !names.contains($0.name) }.reduce(0) { $0 + ModelSize.fullPrecisionBytes($1) }
    }

    /// The smallest model an allocation can give (every tensor at its narrowest candidate).
    public var smallest: Int { rest + tensors.reduce(0) { sum, s in sum + WeightPrecision.candidates.map { ModelSize.storedBytes(s, precision: $0) }.min()! } }

    /// The budget in bytes, refused when even the smallest allocation exceeds it.
    public func budgetBytes(_ budget: SizeBudget) throws -> Int {
        try budget.validate()
        let b = budget.bytes(tensors: tensors, rest: rest)
        guard b >= smallest else {
            throw OptionValueError(option: .sizeBudget, value: budget.description,
                                   reason: String(format: "below the smallest allocation, %.6f MB (%d bytes: every quantized tensor ternary, the rest f32)", Double(smallest) / 1e6, smallest))
        }
        return b
    }

    /// Code bits per weight of the quantized tensors under one precision per tensor.
    public func averageBits(_ precisions: [WeightPrecision]) -> Double {
        let bits = zip(tensors, precisions).reduce(0) { $0 + $1.0.count * $1.1.codeBits }
        return Double(bits) / Double(max(1, tensors.reduce(0) { $0 + $1.count }))
    }
}
