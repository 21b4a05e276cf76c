// What a QAT run streams to its directory: steps.csv (one row per step), evals.csv and layers.csv
// (one evaluation of the student: real performance, intervention off, evaluation mode, plus the
// no-intervention KD loss and per-layer MSE on the fixed dev probe). evals.csv carries every GLUE
// score of the task after its first five columns, and MNLI's mismatched dev set after those.
// Under several ranks every rank evaluates its share and rank 0 alone writes; the writes' outcome is
// agreed by all ranks (a failed write stops every rank with its message).
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

final class QATRecorder {
    /// Rank 0's logs (nil on the other ranks, which read a resumed run's history but write nothing).
    let steps: CSVLog?, evalLog: CSVLog?, layers: CSVLog?
    let communicator: Communicator
    let probe: DistillationProbe
    var evaluator: Evaluator<Float>
    private(set) var evals: [QATEval]
    /// step1-evals.csv of runs with a step 1.
    let stepOne: StepOneEvalLog?
    /// Every logged step's loss passes the divergence check (a resumed run replays its logged losses).
    private var divergence = DivergenceGuard()

    /// Opens the logs; a resumed run drops rows past its saved step and keeps the evaluations before it.
    /// Rank 0 opens the logs first; the other ranks open the recorder after it (they only read).
    init(dir: URL, resumedAt: Int?, model: BertModel, task: TaskData, teacher: [Float], probeSize: Int,
         stepOne hasStepOne: Bool = false, keepsBestStepOne: Bool = false, communicator: Communicator = SingleProcess.shared) throws {
        self.communicator = communicator
        let writes = communicator.isRoot
        stepOne = hasStepOne ? try StepOneEvalLog(dir: dir, resumedAt: resumedAt, keepsBest: keepsBestStepOne, writes: writes) : nil
        steps = writes ? try CSVLog(dir.appendingPathComponent("steps.csv"), header: [
            "step", "phase", "intervention", "lr", "loss", "task", "logits", "hidden", "scores", "attention_blocks", "grad_norm", "seconds", "train_ce"],
            truncateAfter: resumedAt) : nil
        evalLog = writes ? try CSVLog(dir.appendingPathComponent("evals.csv"), header: Self.evalColumns(task), truncateAfter: resumedAt) : nil
        layers = writes ? try CSVLog(dir.appendingPathComponent("layers.csv"), header: ["step", "layer", "attn_mse", "out_mse"],
                                     truncateAfter: resumedAt) : nil
        probe = DistillationProbe(model: model, task: task, teacher: teacher, size: probeSize, communicator: communicator)
        evaluator = Evaluator<Float>(model: model, task: task, communicator: communicator)
        evals = resumedAt == nil ? [] : try QATRun.readEvals(dir)
        if resumedAt != nil { try replayLosses(dir.appendingPathComponent("steps.csv")) }
    }

    /// Feeds the logged steps' losses (columns step, phase, …, loss) to the divergence check, so a
    /// resumed run judges divergence as the uninterrupted run would.
    private func replayLosses(_ url: URL) throws {
        for line in InputFile.lines(try InputFile.text(url), omittingEmpty: true).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            guard f.count > 4, let step = Int(f[0]), let phase = Int(f[1]), let loss = Double(f[4]) else { continue }
            try divergence.observe(loss: loss, step: step, phase: phase)
        }
    }

    func logStep(_ step: Int, phase: Int, intervention: InterventionPoint?, lr: Double, terms st: StepTerms,
                 gradientNorm: Double, elapsed: Double) throws {
        let t = st.loss
        try communicator.onRoot {
            try steps?.append([String(step), String(phase), intervention?.rawValue ?? "none", Fmt.g(lr), Fmt.g(t.total), Fmt.g(t.task),
                               Fmt.g(t.logits), Fmt.g(t.hidden), Fmt.g(t.scores), Fmt.g(t.attentionBlocks), Fmt.g(gradientNorm),
                               Fmt.g(elapsed), Fmt.g(st.trainCE)])
        }
        try divergence.observe(loss: t.total, step: step, phase: phase)
    }

    /// The best step-1 model, where the run hands the best one (not the last) to step 2.
    var bestStepOne: [Float]? { stepOne?.bestURL == nil ? nil : stepOne?.best?.parameters }

    /// Step 1's evaluation as the seeds run it: the dev set with the intervention active.
    func evaluateIntervened(_ student: StudentState, quantization: QuantConfig, intervention: InterventionPoint, teacher: [Float],
                            step: Int) throws {
        let ev = evaluator.evaluate(student.parameters, quantization: quantization, intervention: (intervention, teacher))
        let e = StepOneEval(step: step, intervention: intervention, devMetric: ev.metric, devLoss: ev.loss)
        try communicator.agreeing { try stepOne?.record(e, parameters: student.parameters) }
    }

    func evaluate(_ student: StudentState, quantization: QuantConfig, step: Int, phase: Int) throws {
        let ev = evaluator.evaluate(student.parameters, quantization: quantization)
        let (kd, attn, out) = probe.measure(student.parameters, quantization: quantization)
        evals.append(QATEval(step: step, phase: phase, devMetric: ev.metric, devLoss: ev.loss, probeDistillationLoss: kd,
                             attentionBlockMSE: attn, layerOutputMSE: out))
        var row = [String(step), String(phase), Fmt.g(ev.metric), Fmt.g(ev.loss), Fmt.g(kd)] + Self.scoreCells(ev, task: evaluator.task)
        if !evaluator.task.devMismatched.isEmpty {
            let mm = evaluator.evaluate(student.parameters, quantization: quantization, examples: evaluator.task.devMismatched)
            row += [Fmt.g(mm.loss)] + Self.scoreCells(mm, task: evaluator.task)
        }
        try communicator.onRoot {
            try evalLog?.append(row)
            for l in attn.indices { try layers?.append([String(step), String(l), Fmt.g(attn[l]), Fmt.g(out[l])]) }
        }
    }
}

extension QATRecorder {
    /// evals.csv's columns: the five every reader knows, then every GLUE score of the task's kind
    /// (`GLUEMetric.reported`), then MNLI's dev_mismatched loss and scores prefixed "mm_".
    static func evalColumns(_ task: TaskData) -> [String] {
        let scores = GLUEMetric.reported(numLabels: task.numLabels).map(\.rawValue)
        let mismatched = task.devMismatched.isEmpty ? [] : ["mm_dev_loss"] + scores.map { "mm_" + $0 }
        return ["step", "phase", "dev_metric", "dev_loss", "probe_kd_loss"] + scores + mismatched
    }

    static func scoreCells(_ ev: EvaluationResult, task: TaskData) -> [String] {
        GLUEMetric.reported(numLabels: task.numLabels).map { Fmt.g(ev.extra[$0.rawValue] ?? 0) }
    }
}

/// A training step's loss terms plus the task loss of the student's logits on the batch (`train_ce`:
/// cross-entropy, or MSE for regression), measured whether or not the objective includes it. Reads
/// through to the terms, so the loop uses it as it used LossTerms.
@dynamicMemberLookup
struct StepTerms {
    var loss: LossTerms
    var trainCE: Double
    subscript<V>(dynamicMember path: KeyPath<LossTerms, V>) -> V { loss[keyPath: path] }
}
