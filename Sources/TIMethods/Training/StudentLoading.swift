// A finished QAT/PTQ run's student as analysis needs it: the run's metadata names the method, and
// the method reads its own files (ranges, PTQ options, LSQ's learned steps and layout).
import Foundation
import TIQuant
import TIModel

extension QATRun {
    public static func loadStudent(_ dir: URL) throws -> (model: BertModel, parameters: [Float], quantization: QuantConfig) {
        let meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: dir.appendingPathComponent("metadata.json")))
        let (s, q) = try meta.config.mode.method.loadStudentWithQuantization(dir, config: meta.config)
        return (s.model, s.parameters, q)
    }
}
