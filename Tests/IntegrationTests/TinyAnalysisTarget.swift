// One tiny analysis target for the study and probe tests: a 1-layer, 8-wide BERT on `count`,
// with the student at the teacher or at a seeded perturbation of it.
import Foundation
@testable import TIStudies
import TICore
import TILinalg

enum TinyAnalysisTarget {
    static func make(train: Int, studentNoise: Double? = nil) -> AnalysisTarget {
        var data = SyntheticTaskGenerator(task: .count).make(train: train, dev: 12)
        data.seqLen = 26
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 8, maxPositions: 32, numLabels: data.numLabels))
        let teacher: [Float] = model.initialParameters(seed: 2, std: 0.4)
        var student = teacher
        if let studentNoise {
            var rng = SeededRandom(seed: 3)
            student = teacher.map { $0 + Float(studentNoise * rng.normal()) }
        }
        return AnalysisTarget(model: model, task: data, taskName: .embedded(.count), teacher: teacher, parameters: student,
                              checkpointPath: "memory", checkpointHash: Checkpoint.hash(student))
    }
}
