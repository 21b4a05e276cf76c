// The one place where library errors meet the CLI's vocabulary: library option names become flags,
// and errors that advise a next step say it as a command line. Every message stays one line.
import Foundation
import TICore
import TIData
import TILandscape

extension OptionName {
    /// The flag that sets this option (exhaustive: a new library option must be given its flag here).
    var flag: String {
        switch self {
        case .task: return "--task"
        case .dataDir: return "--data-dir"
        case .pretrained, .tokenizerDir: return "--checkpoint"
        case .learningRate: return "--lr"
        case .pegSites: return "--peg-sites"
        case .peg: return "--peg"
        case .quantDict: return "--quant-dict"
        case .landscapeModes: return "--mode/--compare"
        case .parameters: return "--params"
        case .samples: return "--samples"
        case .batchSize: return "--batch-size"
        case .topK: return "--top-k"
        case .tolerance: return "--tol"
        case .maxIterations: return "--max-iter"
        case .traceProbes: return "--trace-probes"
        case .lanczosSteps: return "--lanczos-steps"
        case .perExample: return "--per-example"
        case .benchShape: return "--bench"
        case .phase: return "--phase"
        case .continuing: return "--from"
        case .quantizedSites: return "--quantize"
        case .fullPrecisionActivations: return "--fp-activations"
        case .distillationTerms: return "--kd-terms"
        case .split: return "--split"
        }
    }
}

/// A library error reworded for the command line.
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
}

enum ErrorMessages {
    /// `error` in the CLI's terms; errors without library-side names pass through unchanged.
    static func forCommandLine(_ error: Error) -> Error {
        switch error {
        case let e as OptionValueError:
            return CommandLineError(description: e.describe(option: e.option.flag))
        case let e as MissingTeacherError:
            return CommandLineError(description: "\(e.directory): no teacher: run tianalyze finetune \(arguments(e.task)) --checkpoint PRETRAINED first")
        case LandscapeError.configMismatch(let dir, let found, let expected):
            return CommandLineError(description: "\(dir) holds a landscape with configHash \(found), this run has \(expected); use another --out directory or delete it")
        default:
            return error
        }
    }

    /// The task flags that select `task` again.
    static func arguments(_ task: TaskSource) -> String {
        switch task {
        case .embedded(let e): return "--task \(e.rawValue)"
        case .glue(let g, let dir, _, _, _): return "--task \(g.rawValue) --data-dir \(dir.path)"
        case .embeddedFiles(let e, let dir, _, _): return "--task \(e.rawValue) --data-dir \(dir.path)"
        }
    }
}
