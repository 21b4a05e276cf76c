// The one place where library errors meet the CLI's vocabulary: library option names become flags,
// and errors that advise a next step say it as a command line. Every message stays one line.
import ArgumentParser
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
        case .epochs: return "--epochs"
        case .evalEvery: return "--eval-every"
        case .patience: return "--patience"
        case .stepOne: return "--step-one"
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
        case .interventionLayers: return "--intervene-layers"
        case .quantizedSites: return "--quantize"
        case .fullPrecisionActivations: return "--fp-activations"
        case .distillationTerms: return "--kd-terms"
        case .split: return "--split"
        case .trackCurvature: return "--track-curvature"
        case .probeExamples: return "--probe-examples"
        case .trackMinibatchEigs: return "--track-minibatch-eigs"
        case .weightPrecisions: return "--quant-config"
        case .sizeBudget: return "--budget-mb/--avg-bits"
        case .nBits: return "--n-bits"
        case .nBitsAct: return "--n-bits-act"
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
        case let e as DivergenceError:
            return CommandLineError(description: e.describe(learningRate: "--lr", factorName: "--divergence-factor"))
        case let e as DecodingError:
            return CommandLineError(description: "malformed record: \(FileErrors.describe(e))")
        case let e as EncodingError:
            if case .invalidValue(let value, let ctx) = e {
                return CommandLineError(description: "cannot record \(value) at '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))': not a finite number")
            }
            return CommandLineError(description: "cannot record a value: \(e)")
        default:
            return foundation(error) ?? error
        }
    }

    /// A Foundation file error as "path: reason" (not the bridged NSError's text).
    static func foundation(_ error: Error) -> Error? {
        let ns = error as NSError
        guard [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(ns.domain) else { return nil }
        return CommandLineError(description: "\(FileErrors.path(error) ?? "file"): \(FileErrors.reason(error))")
    }

    /// Prints `error` as one "Error: …" line on stderr and exits with ArgumentParser's code for it;
    /// help and version requests print as ArgumentParser prints them (their exit code is 0).
    static func exit(with error: Error) -> Never {
        let (line, code) = errorLine(error)
        guard code != .success else { Tianalyze.exit(withError: forCommandLine(error)) }
        // Over MPI ranks the failing rank's line, then every rank ends (MPI_Abort), never a hang.
        if let comm = World.current, comm.isDistributed { comm.abort(line ?? "Error: exit code \(code.rawValue)") }
        // Usage errors come before the ranks are set up and every rank meets them alike: rank 0 says it.
        if let line, World.rank == 0 { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        Foundation.exit(code.rawValue)
    }

    /// The one stderr line ("Error: …", nil for a bare exit code) and the exit code of `error`.
    static func errorLine(_ error: Error) -> (line: String?, code: ExitCode) {
        let mapped = forCommandLine(error)
        let message = Tianalyze.message(for: mapped).split(whereSeparator: \.isNewline).joined(separator: " ")
        return (message.isEmpty ? nil : "Error: \(message)", Tianalyze.exitCode(for: mapped))
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
