// How many bytes a model takes when stored at its quantization: every quantized weight tensor as
// packed codes (`WeightPrecision.codeBits` per weight, rounded up to whole bytes) plus one f32 scale
// per quantization group (per tensor, or per row for row-wise quantizers); every other tensor in f32.
// Exact integers, so that a size budget is compared without rounding.
import TILinalg
import TIQuant

extension ModelSize {
    /// Bytes of one weight tensor stored at `precision`, with the quantizer its site gets at that precision.
    public static func storedBytes(_ slot: ParameterSlot, precision: WeightPrecision) -> Int {
        let codes = (slot.count * precision.codeBits + 7) / 8
        let groups: Int
        switch precision.quantizer(site: slot.weightSite ?? .query) {
        case .ternary(_, let perRow), .uniform(_, _, let perRow): groups = perRow ? slot.rows : 1
        case .symmetricMSE, .lsq: groups = 1
        }
        return codes + 4 * groups
    }

    /// Bytes of a tensor kept in f32.
    public static func fullPrecisionBytes(_ slot: ParameterSlot) -> Int { 4 * slot.count }

    /// Bytes of the whole model: the tensors in `precisions` at their precision, the others in f32.
    public static func storedBytes(layout: ParameterLayout, precisions: [String: WeightPrecision]) -> Int {
        layout.slots.reduce(0) { sum, slot in
            sum + (precisions[slot.name].map { storedBytes(slot, precision: $0) } ?? fullPrecisionBytes(slot))
        }
    }
}
