// A finished QAT/PTQ run's student as analysis needs it. Most modes are a plain HF checkpoint with a
// fixed QuantConfig; the issue-8 modes also carry state next to it: frozen activation ranges (Q8BERT's
// EMA, PTQ/LSQ calibration), PTQ options (quant-dict, PEG) in metadata.json, and LSQ's learned steps,
// which need the extended layout. Analysis should resolve students through this, not QATMode alone.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

extension QATRun {
    public static func loadStudent(_ dir: URL) throws -> (model: BertModel, parameters: [Float], quantization: QuantConfig) {
        let metaURL = dir.appendingPathComponent("metadata.json")
        let meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: metaURL))
        let mode = meta.config.mode
        let ck = try Checkpoint.load(dir.appendingPathComponent("student"))
        let rangesURL = dir.appendingPathComponent(activationRangesFile)
        let ranges = FileManager.default.fileExists(atPath: rangesURL.path)
            ? try JSONDecoder().decode(ActivationRangeState.self, from: Data(contentsOf: rangesURL)) : nil
        let quantization = mode.quantization(ranges: ranges, ptq: meta.config.ptq)
        guard mode.learnsSteps else { return (BertModel(config: ck.config), ck.parameters, quantization) }
        let model = LSQ.model(config: ck.config, quantization: quantization)
        let steps = try SafeTensorsFile.read(url: dir.appendingPathComponent(learnedStepsFile)).values("steps", as: Float.self)
        guard ck.parameters.count + steps.count == model.layout.count else {
            throw DataError.mismatch(file: dir.appendingPathComponent(learnedStepsFile).path,
                                     reason: "\(steps.count) steps, the LSQ layout of config.json needs \(model.layout.count - ck.parameters.count)")
        }
        return (model, ck.parameters + steps, quantization)
    }
}
