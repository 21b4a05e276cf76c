// A finished QAT/PTQ run's student as analysis needs it: the run's metadata names the method, and
// the method reads its own files (ranges, PTQ options, LSQ's learned steps and layout). A run that
// never finished (killed, failed, diverged) is refused: its student is not the method's result.
import Foundation
import TIData
import TIQuant
import TIModel

extension QATRun {
    public static func loadStudent(_ dir: URL) throws -> (model: BertModel, parameters: [Float], quantization: QuantConfig) {
        let url = dir.appendingPathComponent("metadata.json")
        let meta = try InputFile.decodeJSON(QATRunMetadata.self, from: url)
        guard meta.finished != nil, meta.summary != nil else {
            throw DataError.mismatch(file: dir.path, reason: "unfinished run (metadata.json records no finish: it was killed or failed); rerun its tianalyze qat command to finish it, or remove the folder")
        }
        let (s, q) = try meta.config.mode.method.loadStudentWithQuantization(dir, config: meta.config)
        return (s.model, s.parameters, q)
    }
}
