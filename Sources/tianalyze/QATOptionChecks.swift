// The stated domains of `qat`'s options (QATCommand.swift and QuantizationOptions.swift keep their
// declarations; the checks live here so that they are in one place with the other domains).
// ArgumentParser calls these validate() methods after parsing, before run().
import ArgumentParser
import Foundation
import TICore

enum QATOptionChecks {
    /// The training schedule of a QAT run: a finite learning rate in (0, 1], at least one epoch,
    /// step and evaluation counts that are positive and far from overflow.
    /// nil: not given (the recipe's value, checked with the resolved configuration).
    static func schedule(lr: Double?, epochs: Int?, batchSize: Int?, stepOne: Int?, evalEvery: Int?) throws {
        if let lr { try Domain.learningRate(lr) }
        if let epochs { try Domain.count(epochs, "--epochs", Domain.epochs) }
        if let batchSize { try Domain.count(batchSize, "--batch-size", Domain.batch, "examples") }
        try Domain.count(stepOne, "--step-one", Domain.steps, "steps")
        if let evalEvery { try Domain.count(evalEvery, "--eval-every", Domain.steps, "steps") }
    }

    /// The run folder: writable, and neither the teacher's folder nor one above it or the data.
    static func output(_ out: String?, teacherDir: String?, dataDir: String?) throws {
        guard let out else { return }
        try PathChecks.outputFolder(out, "--out")
        try PathChecks.notOverwriting(out, "--out", inputs: [("teacher", teacherDir), ("--data-dir", dataDir)])
    }
}

extension QATCommand {
    func validate() throws {
        try QATOptionChecks.schedule(lr: lr, epochs: epochs, batchSize: batchSize, stepOne: stepOne, evalEvery: evalEvery)
        let teacher = (try? taskOptions.source()).map { common.workspace.teacherDir($0).path }
        try QATOptionChecks.output(out, teacherDir: teacher, dataDir: taskOptions.dataDir)
        try q8bert.check(mode: mode)
        try quant.check(mode: mode)
        try quant.refuseUnusedPEGOptions(mode: mode)
        try lsq.check(mode: mode)
    }
}

extension QuantizationOptions {
    func validate() throws {
        try Domain.count(calibrationBatches, "--calibration-batches", Domain.calibration, "batches")
        try Domain.count(calibrationBatchSize, "--calibration-batch-size", Domain.batch, "examples")
        try Domain.count(nBits, "--n-bits", PTQSeedOptions.bitsDomain, "bits")
        try Domain.count(nBitsAct, "--n-bits-act", PTQSeedOptions.bitsDomain, "bits")
        try Domain.count(actNumCandidates, "--act-num-candidates", PTQSeedOptions.candidatesDomain, "candidates")
        do {
            if let peg { _ = try PEGOptions.parse(peg, sites: pegSites, sharedH: pegPermuteSharedH) }
        } catch {
            throw ValidationError("\(ErrorMessages.forCommandLine(error))")
        }
    }
}
