// A finished QAT run directory as an analysis point: its student under its own quantization
// (the trajectory landscape, `--interpolate-runs`), and the parameters of an interpolation
// endpoint (a run's student, or a checkpoint folder such as the FP teacher's).
import Foundation
import TILinalg
import TIData
import TICore

extension AnalysisTarget {
    /// The mode and task data hash a run directory records.
    public static func runRecord(_ dir: URL) throws -> QATRunMetadata {
        let url = dir.appendingPathComponent("metadata.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError.io(file: url.path, reason: "missing: expected a QAT run directory (written by `tianalyze qat`)")
        }
        return try InputFile.decodeJSON(QATRunMetadata.self, from: url)
    }

    /// The student of the finished run in `dir`, with the teacher of `task` mapped into its layout.
    public static func fromRun(_ dir: URL, workspace: Workspace, task: TaskSource) throws -> AnalysisTarget {
        let record = try runRecord(dir)
        let data = try workspace.taskData(task)
        guard record.dataHash == data.hash else {
            throw DataError.mismatch(file: dir.appendingPathComponent("metadata.json").path,
                                     reason: "the run trained on task \(record.task) (data \(record.dataHash)), this command's task is \(task.name) (data \(data.hash)); pass --task \(record.task)")
        }
        return try fromRun(dir, mode: record.config.mode, teacher: try workspace.teacher(task).parameters, data: data, task: task)
    }

    static func fromRun(_ dir: URL, mode: QATMode, teacher: [Float], data: TaskData, task: TaskSource) throws -> AnalysisTarget {
        // The run's own quantization: EMA/calibrated ranges, PTQ options, LSQ steps (and layout).
        let loaded = try QATRun.loadStudent(dir)
        let mapped = mode.method.teacherParameters(teacher, in: StudentState(model: loaded.model, parameters: loaded.parameters),
                                                   quantization: loaded.quantization)
        return AnalysisTarget(model: loaded.model, task: data, taskName: task, teacher: mapped, parameters: loaded.parameters,
                              checkpointPath: dir.appendingPathComponent("student").path,
                              checkpointHash: Checkpoint.hash(loaded.parameters), quantization: loaded.quantization, mode: mode)
    }

    /// An interpolation endpoint: a QAT run's student, or the weights of a checkpoint folder.
    public static func endpoint(_ dir: URL) throws -> (label: String, parameters: [Float], mode: QATMode?) {
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("metadata.json").path) {
            let record = try runRecord(dir)
            return (dir.lastPathComponent, try QATRun.loadStudent(dir).parameters, record.config.mode)
        }
        return (dir.lastPathComponent, try Checkpoint.load(dir).parameters, nil)
    }
}
