// The integer layers of Q8BERT's int8 export: every Linear whose weight the file stores as int8 codes
// and whose bias as int32 codes (written only where the input has a frozen 8-bit range) becomes an
// IntegerLinear, read straight from the codes — no float round trip — so that `eval --load-quantized`
// can run the file in integer arithmetic as Intel's QuantizedLinear does at inference.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

extension QuantizedExport {
    /// The export's integer Linears, by weight offset in `model`'s layout, with `quantization` the
    /// config `load` returned (its frozen ranges give each layer's input step). A file whose codes or
    /// scales disagree with that (a bias scale that is not step_x·step_w, sums that could leave int32)
    /// is refused with the tensor named.
    public static func integerLinears(_ url: URL, model: BertModel, quantization q: QuantConfig,
                                      kernel: Int8GEMM.Kernel = Int8GEMM.kernel) throws -> IntegerLinears {
        let file = try SafeTensorsFile.read(url: url)
        var table: [Int: IntegerLinear] = [:]
        for slot in model.layout.slots where slot.name.hasSuffix(".weight") {
            let biasName = String(slot.name.dropLast("weight".count)) + "bias"
            guard file.info(slot.name)?.dtype == .i8, file.info(biasName)?.dtype == .i32,
                  let key = linearInputKey(slot.name) else { continue }
            func refuse(_ tensor: String, _ reason: String) -> DataError {
                DataError.mismatch(file: url.path, reason: "tensor '\(tensor)': \(reason)")
            }
            guard let site = ActivationSite(rawValue: String(key.prefix { $0 != "." })),
                  case .tracked(let bits)? = q.activations[site], bits == 8,
                  let r = q.ranges?.threshold(key), r > 0, r.isFinite else {
                throw refuse(biasName, "int32 codes need the frozen 8-bit range of the layer's input '\(key)' in the metadata")
            }
            let weightScale = try scalar(file, scaleName(slot.name), url: url)
            let biasScale = try scalar(file, scaleName(biasName), url: url)
            let inputStep = IntegerGrid.symmetric(bits: 8).step(range: r)
            let expected = inputStep * Double(weightScale)
            guard biasScale > 0, abs(Double(biasScale) - expected) <= 1e-6 * expected else {
                throw refuse(scaleName(biasName), "\(biasScale) is not the input step × weight step \(Float(expected)) (r = \(r))")
            }
            let codes = try file.intValues(slot.name).map { Int8($0) }
            let bias = try file.intValues(biasName).map { Int32($0) }
            guard bias.count == slot.rows else { throw refuse(biasName, "\(bias.count) codes for \(slot.rows) outputs") }
            do {
                table[slot.offset] = try IntegerLinear(weightCodes: codes, outFeatures: slot.rows, inFeatures: slot.rowLength,
                                                       biasCodes: bias, inputStep: Float(inputStep), outputStep: biasScale, kernel: kernel)
            } catch let e as IntegerLinear.Overflow {
                throw refuse(slot.name, "int32 sums could overflow (127·Σ|w| + |b| up to \(e.bound) > 2^31 − 1)")
            }
        }
        return IntegerLinears(byWeightOffset: table)
    }

    /// A per-tensor F32 scale (one value, finite).
    static func scalar(_ file: SafeTensorsFile, _ name: String, url: URL) throws -> Float {
        let v = try file.values(name, as: Float.self)
        guard v.count == 1, v[0].isFinite else {
            throw DataError.mismatch(file: url.path, reason: "tensor '\(name)': expected one finite per-tensor scale")
        }
        return v[0]
    }
}
