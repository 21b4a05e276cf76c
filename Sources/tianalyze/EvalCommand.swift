// tianalyze eval --checkpoint PATH: every GLUE score of a checkpoint (FP teacher/HF directory, QAT
// run directory, or Q8BERT's int8 export; --load-quantized is kept for the latter) on one split,
// one line per score (--json: the same as one JSON object). The logic is CheckpointEvaluation's;
// this only parses and prints.
import ArgumentParser
import Foundation
import TICore
import TIData
import TIStudies

extension EvaluationSplit: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Every GLUE score of a checkpoint, QAT run's student or int8 export on one split.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "A checkpoint directory (FP teacher or HF BERT), a QAT run directory (its student, quantized as the run saved it), or an int8 export file.")
    var checkpoint: String?
    @Option(name: .customLong("load-quantized"), help: "An int8 export written by `tianalyze qat --mode Q8BERT` (<run>/\(QATRun.int8ExportFile)); same as --checkpoint FILE.")
    var loadQuantized: String?
    @Option(help: "Examples scored: dev, dev-mismatched (MNLI) or train.") var split: EvaluationSplit = .dev
    @Option(help: "Evaluate the first N examples of the split (default: all).") var samples: Int?
    @OptionGroup var quantConfig: QuantConfigOption
    @Option(help: "Also write everything printed as one JSON object to this file.") var json: String?

    func validate() throws {
        guard (checkpoint == nil) != (loadQuantized == nil) else {
            throw ValidationError("give exactly one of --checkpoint and --load-quantized")
        }
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try PathChecks.inputFile(loadQuantized, "--load-quantized")
        try PathChecks.outputFile(json, "--json", inputs: [("--checkpoint", checkpoint), ("--load-quantized", loadQuantized)])
    }

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let url = URL(fileURLWithPath: (checkpoint ?? loadQuantized)!)
        let r = try CheckpointEvaluation.run(checkpoint: url, task: task, workspace: common.workspace, split: split, samples: samples,
                                             quantConfig: quantConfig.file())
        for note in r.notes { common.events.note("checkpoint: \(note)") }
        let e = r.evaluation
        print("\(r.kind) on \(task.name) \(split.rawValue) (\(e.examples) examples)  [\(r.location.path)]")
        print(String(format: "headline %@ %.4f", e.metricName, e.metric))
        for (name, value) in e.scores { print(String(format: "%@ %.4f", name, value)) }
        print(String(format: "loss %.4f", e.loss))
        if let i = r.integer {
            let steps = i.maxLogitDifferenceInSteps.map {
                String(format: " = %.3g logit steps of %.3g (%d of %d examples within one step)", $0, i.logitStep!,
                       i.examplesWithinOneStep ?? 0, i.evaluation.examples)
            } ?? ""
            print(String(format: "integer arithmetic (%d of %d Linears; %@): %@ %.4f, loss %.4f; max |Δlogit| vs fake-quantized %.3g%@; %d predictions changed",
                         i.integerLayers, i.linearLayers, i.routes.joined(separator: ", "), i.evaluation.metricName, i.evaluation.metric,
                         i.evaluation.loss, i.maxLogitDifference, steps, i.changedPredictions))
        }
        if let f = r.reference, let d = r.maxLogitDifference {
            print(String(format: "fake-quantized student of the run: %@ %.4f, loss %.4f; max |Δlogit| %.3g", f.metricName, f.metric, f.loss, d))
        }
        if let json { try AtomicFile.writeJSON(r, to: URL(fileURLWithPath: json)) }
    }
}
