// tianalyze eval --load-quantized PATH: dev metric and task loss of Q8BERT's int8 export, and of the
// run's fake-quantized student beside it (with the largest logit difference) when the file sits in
// its run directory.
import ArgumentParser
import Foundation
import TICore
import TIStudies

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Dev metric and loss of a quantized export (Q8BERT's int8 checkpoint, --load-quantized).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(name: .customLong("load-quantized"), help: "An int8 export written by `tianalyze qat --mode Q8BERT` (<run>/\(QATRun.int8ExportFile)).")
    var loadQuantized: String
    @Option(help: "Evaluate the first N dev examples (default: all).") var samples: Int?

    func validate() throws {
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try PathChecks.inputFile(loadQuantized, "--load-quantized")
    }

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let data = try common.workspace.taskData(task)
        let url = URL(fileURLWithPath: loadQuantized)
        let r = try QuantizedEvaluation.run(export: url, task: data, samples: samples)
        let e = r.evaluation
        print(String(format: "int8 export on %@ (%d dev examples): %@ %.4f, loss %.4f  [%@]", task.name, e.examples, e.metricName,
                     e.metric, e.loss, url.path))
        if let f = r.reference, let d = r.maxLogitDifference {
            print(String(format: "fake-quantized student of the run:      %@ %.4f, loss %.4f; max |Δlogit| %.3g", f.metricName, f.metric, f.loss, d))
        }
    }
}
