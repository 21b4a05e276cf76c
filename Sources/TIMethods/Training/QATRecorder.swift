// What a QAT run streams to its directory: steps.csv (one row per step), evals.csv and layers.csv
// (one evaluation of the student: real performance, intervention off, evaluation mode, plus the
// no-intervention KD loss and per-layer MSE on the fixed dev probe).
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

final class QATRecorder {
    let steps: CSVLog, evalLog: CSVLog, layers: CSVLog
    let probe: DistillationProbe
    let evaluator: Evaluator<Float>
    private(set) var evals: [QATEval]
    /// Every logged step's loss passes the divergence check (a resumed run replays its logged losses).
    private var divergence = DivergenceGuard()

    /// Opens the logs; a resumed run drops rows past its saved step and keeps the evaluations before it.
    init(dir: URL, resumedAt: Int?, model: BertModel, task: TaskData, teacher: [Float], probeSize: Int) throws {
        steps = try CSVLog(dir.appendingPathComponent("steps.csv"), header: [
            "step", "phase", "intervention", "lr", "loss", "task", "logits", "hidden", "scores", "attention_blocks", "grad_norm", "seconds"],
            truncateAfter: resumedAt)
        evalLog = try CSVLog(dir.appendingPathComponent("evals.csv"), header: ["step", "phase", "dev_metric", "dev_loss", "probe_kd_loss"],
                             truncateAfter: resumedAt)
        layers = try CSVLog(dir.appendingPathComponent("layers.csv"), header: ["step", "layer", "attn_mse", "out_mse"],
                            truncateAfter: resumedAt)
        probe = DistillationProbe(model: model, task: task, teacher: teacher, size: probeSize)
        evaluator = Evaluator<Float>(model: model, task: task)
        evals = resumedAt == nil ? [] : try QATRun.readEvals(dir)
        if resumedAt != nil { try replayLosses(steps.url) }
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

    func logStep(_ step: Int, phase: Int, intervention: InterventionPoint?, lr: Double, terms t: LossTerms,
                 gradientNorm: Double, elapsed: Double) throws {
        try steps.append([String(step), String(phase), intervention?.rawValue ?? "none", Fmt.g(lr), Fmt.g(t.total), Fmt.g(t.task),
                          Fmt.g(t.logits), Fmt.g(t.hidden), Fmt.g(t.scores), Fmt.g(t.attentionBlocks), Fmt.g(gradientNorm),
                          Fmt.g(elapsed)])
        try divergence.observe(loss: t.total, step: step, phase: phase)
    }

    func evaluate(_ student: StudentState, quantization: QuantConfig, step: Int, phase: Int) throws {
        let ev = evaluator.evaluate(student.parameters, quantization: quantization)
        let (kd, attn, out) = probe.measure(student.parameters, quantization: quantization)
        evals.append(QATEval(step: step, phase: phase, devMetric: ev.metric, devLoss: ev.loss, probeDistillationLoss: kd,
                             attentionBlockMSE: attn, layerOutputMSE: out))
        try evalLog.append([String(step), String(phase), Fmt.g(ev.metric), Fmt.g(ev.loss), Fmt.g(kd)])
        for l in attn.indices { try layers.append([String(step), String(l), Fmt.g(attn[l]), Fmt.g(out[l])]) }
    }
}
