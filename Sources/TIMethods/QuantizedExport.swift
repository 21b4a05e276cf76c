// The quantized checkpoint of an 8-bit model (Q8BERT's export): int8 codes plus one F32 scale per
// tensor for every weight quantized 8-bit symmetric per tensor; as Intel's export, the bias of each
// such Linear whose input has a frozen 8-bit range as int32 codes on the accumulator's grid
// (round(b / (step_x · step_w)), scale step_x · step_w); F32 for everything else (LayerNorm, other
// biases); and the QuantConfig with its frozen activation ranges in the safetensors metadata, so the
// file alone is enough to evaluate the model. W ≈ code·scale, scale = max|W|/127.
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
        let weightSteps = int8WeightSteps(θ, model: model, config: config)
        for slot in model.layout.slots {
            let values = θ[slot.range]
            if let step = weightSteps[slot.name] {
                tensors.append(.int8(slot.name, shape: slot.shape, values: int8Codes(values).codes))
                tensors.append(.float32(scaleName(slot.name), shape: [1], values: [step]))
            } else if let (codes, step) = int32Bias(slot, values, weightSteps: weightSteps, config: config) {
                tensors.append(.int32(slot.name, shape: slot.shape, values: codes))
                tensors.append(.float32(scaleName(slot.name), shape: [1], values: [step]))
            } else {
                tensors.append(.float32(slot.name, shape: slot.shape, values: Array(values)))
            }
        }
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        try SafeTensorsWriter.write(tensors, metadata: ["format": "pt", configKey: json], to: url)
    }

    /// The per-tensor step (max|W|/127) of every weight the export stores as int8, by parameter name.
    static func int8WeightSteps(_ θ: [Float], model: BertModel, config: QuantConfig) -> [String: Float] {
        var steps: [String: Float] = [:]
        for slot in model.layout.slots {
            if config.weightQuantizer(for: slot) == .uniform(bits: 8, symmetric: true, perRow: false) {
                steps[slot.name] = int8Codes(θ[slot.range]).scale
            }
        }
        return steps
    }

    /// θ with every bias the export stores as int32 replaced by its dequantized code: the fake-quantized
    /// model as Intel's inference forward runs it (training keeps float biases; deployment rounds them).
    public static func biasesOnAccumulatorGrid(_ θ: [Float], model: BertModel, config: QuantConfig) -> [Float] {
        var out = θ
        let weightSteps = int8WeightSteps(θ, model: model, config: config)
        for slot in model.layout.slots {
            guard let (codes, step) = int32Bias(slot, θ[slot.range], weightSteps: weightSteps, config: config) else { continue }
            for (i, c) in zip(slot.range, codes) { out[i] = Float(Double(c) * Double(step)) }
        }
        return out
    }

    /// A Linear bias as int32 codes on the grid of its int8 product, step_x · step_w with step_x the
    /// frozen input range's step (r_x/127) and step_w its weight's, when both exist; nil otherwise.
    static func int32Bias(_ slot: ParameterSlot, _ b: ArraySlice<Float>, weightSteps: [String: Float],
                          config: QuantConfig) -> ([Int32], Float)? {
        guard slot.name.hasSuffix(".bias"), let stepW = weightSteps[String(slot.name.dropLast(4)) + "weight"],
              let input = linearInputKey(slot.name), let r = config.ranges?.threshold(input), r > 0, stepW > 0 else { return nil }
        let step = Double(IntegerGrid.symmetric(bits: 8).step(range: r)) * Double(stepW)
        let limit = Double(Int32.max)
        return (b.map { Int32(max(-limit, min(limit, (Double($0) / step).rounded(.toNearestOrEven)))) }, Float(step))
    }

    /// The range key ("site.layer") of the input of the Linear a parameter belongs to, from its HF name.
    static func linearInputKey(_ name: String) -> String? {
        let parts = name.split(separator: ".").map(String.init)
        let layer = parts.firstIndex(of: "layer").flatMap { i in i + 1 < parts.count ? Int(parts[i + 1]) : nil } ?? 0
        let site: ActivationSite
        if name.contains(".attention.self.") { site = .attentionInput }
        else if name.contains(".attention.output.dense.") { site = .contextInput }
        else if name.contains(".intermediate.dense.") { site = .intermediateInput }
        else if name.contains(".output.dense.") { site = .outputInput }
        else if name.contains("pooler.dense.") { site = .poolerInput }
        else if name.hasPrefix("classifier.") { site = .classifierInput }
        else { return nil }
        return ActivationRangeState.key(site, layer)
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
            if info.dtype == .i32 {
                // int32 codes exceed Float's 24-bit integers: dequantized in Double.
                let step = try file.values(scaleName(slot.name), as: Double.self)
                guard step.count == 1 else {
                    throw DataError.mismatch(file: url.path, reason: "tensor '\(scaleName(slot.name))': expected one per-tensor scale")
                }
                values = try file.values(slot.name, as: Double.self).map { Float($0 * step[0]) }
            } else if info.dtype == .i8 {
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
