// The seeded training batches a post-training method calibrates on (PTQ ranges, AdaRound's
// reconstruction, LSQ's initial activation steps): drawn from the run's seed, before any step.
import TILinalg
import TIQuant
import TIModel

enum CalibrationBatches {
    static func draw(task: TaskData, config: QATConfig) -> [Batch] {
        let o = config.ptq ?? PTQOptions()
        var stream = BatchStream(examples: task.train, batchSize: o.calibrationBatchSize, seqLen: task.seqLen,
                                 regression: task.isRegression, rng: SeededRandom(seed: config.seed).derived("calibration"))
        return (0..<o.calibrationBatches).map { _ in stream.next() }
    }
}
