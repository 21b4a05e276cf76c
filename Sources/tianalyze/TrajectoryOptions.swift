// `qat --save-trajectory K`: the option that adds the trajectory observer to a QAT run (kept apart
// from QATCommand.swift so every telemetry option sits in its own file).
import ArgumentParser
import TICore

struct TrajectoryOptions: ParsableArguments {
    @Option(help: "Save the parameters every K steps and at the end (float16 deltas against the start, <run>/trajectory.bin), for `landscape --directions trajectory --run RUN`.")
    var saveTrajectory: Int?

    func validate() throws {
        try Domain.count(saveTrajectory, "--save-trajectory", Domain.steps, "steps")
    }

    var observers: [QATObserver] { saveTrajectory.map { [TrajectoryObserver(every: $0)] } ?? [] }
}
