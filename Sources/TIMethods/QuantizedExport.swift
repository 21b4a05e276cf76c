// The quantized checkpoint of an 8-bit model (Q8BERT's export): int8 codes plus one F32 scale per
// tensor for every weight quantized 8-bit symmetric per tensor, F32 for everything else (biases,
// LayerNorm), and the QuantConfig with its frozen activation ranges in the safetensors metadata, so
// the file alone is enough to evaluate the model. W ≈ code·scale, scale = max|W|/127.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

public enum QuantizedExport {
    static let configKey = "tianalyze.quant_config"

    /// The name of the scale tensor of an int8 tensor.
    public static func scaleName(_ name: String) -> String { name + ".scale" }

    /// Codes and step of an 8-bit symmetric per-tensor quantizer, the same grid as `WeightQuantizer.uniform`.
    public static func int8Codes(_ w: ArraySlice<Float>) -> (codes: [Int8], scale: Float) {
        let m = w.reduce(Float(0)) { max($0, abs($1)) }
        guard m > 0 else { return ([Int8](repeating: 0, count: w.count), 0) }
        let grid = IntegerGrid.symmetric(bits: 8), s = grid.scale(range: m)
        return (w.map { Int8(($0 * s).rounded(.toNearestOrEven)) }, grid.step(range: m))
    }

    public static func write(_ θ: [Float], model: BertModel, config: QuantConfig, to url: URL) throws {
        precondition(θ.count == model.layout.count, "QuantizedExport: parameter vector does not match the layout")
        var tensors: [SafeTensorsWriter.Tensor] = []
        for slot in model.layout.slots {
            let values = θ[slot.range]
            if config.weightQuantizer(for: slot) == .uniform(bits: 8, symmetric: true, perRow: false) {
                let (codes, scale) = int8Codes(values)
                tensors.append(.int8(slot.name, shape: slot.shape, values: codes))
                tensors.append(.float32(scaleName(slot.name), shape: [1], values: [scale]))
            } else {
                tensors.append(.float32(slot.name, shape: slot.shape, values: Array(values)))
            }
        }
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt", configKey: json], to: url)
    }

    /// The dequantized (effective) parameters and the activation-only QuantConfig to evaluate them
    /// with: the weights are already on their grid, so the config's weight quantizers are dropped.
    public static func load(_ url: URL, model: BertModel) throws -> (effective: [Float], quantization: QuantConfig) {
        let file = try SafeTensorsFile.read(url: url)
        guard let json = file.metadata[configKey] else {
            throw DataError.mismatch(file: url.path, reason: "no '\(configKey)' metadata: not a tianalyze quantized checkpoint")
        }
        var config = try JSONDecoder().decode(QuantConfig.self, from: Data(json.utf8))
        var θ = [Float](repeating: 0, count: model.layout.count)
        for slot in model.layout.slots {
            guard let info = file.info(slot.name), info.shape == slot.shape else {
                throw DataError.mismatch(file: url.path, reason: "tensor '\(slot.name)': missing or not of shape \(slot.shape)")
            }
            var values = try file.values(slot.name, as: Float.self)
            if info.dtype == .i8 {
                let scale = try file.values(scaleName(slot.name), as: Float.self)
                guard scale.count == 1 else {
                    throw DataError.mismatch(file: url.path, reason: "tensor '\(scaleName(slot.name))': expected one per-tensor scale")
                }
                for i in values.indices { values[i] *= scale[0] }
            }
            for (i, v) in zip(slot.range, values) { θ[i] = v }
        }
        config.weights = [:]
        config.name += "-loaded"
        return (θ, config)
    }
}
