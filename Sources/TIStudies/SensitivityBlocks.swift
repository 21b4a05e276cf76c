// The blocks `tianalyze sensitivity` measures: every quantized weight tensor (each Linear's weight and
// the word embeddings; these are what a bit allocation assigns precisions to), and the groups they sit
// in (each layer's attention and FFN sub-block with biases and LayerNorm, the embeddings, the head).
// Also the quantization perturbation ‖Q(W) − W‖² of a tensor at a candidate precision.
import TILinalg
import TICore

public struct SensitivityBlock: Sendable {
    public enum Kind: String, Codable, Sendable {
        case tensor  // one quantized weight tensor: gets a precision
        case group   // a sub-block of several tensors: reported only
    }
    public var name: String
    public var kind: Kind
    public var slots: [ParameterSlot]
    public var parameters: Int { slots.reduce(0) { $0 + $1.count } }
    /// Coordinates in the flat parameter vector, ascending.
    public var coordinates: [Int] { slots.sorted { $0.offset < $1.offset }.flatMap { Array($0.range) } }
}

public enum SensitivityBlocks {
    /// The quantized weight tensors, then each layer's attention and FFN sub-blocks, the embeddings and the head.
    public static func blocks(_ model: BertModel) -> [SensitivityBlock] {
        let layout = model.layout
        var out = QuantConfigFile.quantizableTensors(layout).map { SensitivityBlock(name: $0.name, kind: .tensor, slots: [$0]) }
        func group(_ name: String, _ slots: [ParameterSlot]) {
            if !slots.isEmpty { out.append(SensitivityBlock(name: name, kind: .group, slots: slots)) }
        }
        group("embeddings", layout.slots(matching: "bert.embeddings.*"))
        for l in 0..<model.config.numLayers {
            group("layer.\(l).attention", layout.slots(matching: "bert.encoder.layer.\(l).attention.*"))
            group("layer.\(l).ffn", layout.slots(matching: "bert.encoder.layer.\(l).intermediate.*")
                  + layout.slots(matching: "bert.encoder.layer.\(l).output.*"))
        }
        group("head", layout.slots.filter { $0.name.hasPrefix("bert.pooler") || $0.name.hasPrefix("classifier") })
        return out
    }

    /// ‖Q(W) − W‖² of the tensor's weights in θ at `precision`, with the quantizer its site gets at that
    /// precision (the same arithmetic a mixed-precision run quantizes with), summed in Double.
    public static func perturbation(_ θ: [Float], slot: ParameterSlot, precision: WeightPrecision) -> Double {
        let q = precision.quantizer(site: slot.weightSite ?? .query)
        let w = Array(θ[slot.range])
        var out = [Float](repeating: 0, count: w.count), mask = out
        w.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                mask.withUnsafeMutableBufferPointer { m in
                    q.quantize(src.baseAddress!, rows: slot.rows, cols: slot.rowLength, out: dst.baseAddress!, mask: m.baseAddress!)
                }
            }
        }
        var e = 0.0
        for (a, b) in zip(w, out) { let d = Double(a) - Double(b); e += d * d }
        return e
    }
}
