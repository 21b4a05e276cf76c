// Corpus, part 4: the trajectory and roughness options (qat --save-trajectory, landscape
// --directions trajectory --run, --interpolate-runs, --direction-seeds) and a missing, foreign or
// damaged trajectory file: refused with one line naming the option or the file, before any work.
import Foundation
import TIData

extension HostileCase {
    static let trajectoryCases: [HostileCase] = trajectoryOptions.map { $0.atParseTime() } + trajectoryFiles

    static let trajectoryOptions: [HostileCase] = [
        HostileCase("qat trajectory every 0 steps", cli("qat", "--save-trajectory", "0"), .refused(["--save-trajectory", "expected"])),
        HostileCase("qat trajectory every -3 steps", cli("qat", "--save-trajectory=-3"), .refused(["--save-trajectory", "expected"])),
        HostileCase("landscape trajectory without a run", cli("landscape", "--directions", "trajectory"), .refused(["--run"])),
        HostileCase("landscape run without trajectory directions", cli("landscape", "--run", "{S}"), .refused(["--directions trajectory"])),
        HostileCase("landscape unknown direction source", cli("landscape", "--directions", "sideways"), .refused(["--directions", "sideways"])),
        HostileCase("landscape trajectory of a missing run", cli("landscape", "--directions", "trajectory", "--run", "{S}/missing"),
                    .refused(["--run", "missing", "not found"])),
        HostileCase("landscape repeated direction seed", cli("landscape", "--direction-seeds", "1,2,1"), .refused(["--direction-seeds", "expected"])),
        HostileCase("landscape direction seed not a number", cli("landscape", "--direction-seeds", "1,x"), .refused(["--direction-seeds", "expected"])),
        HostileCase("landscape negative direction seed", cli("landscape", "--direction-seeds=-1,2"), .refused(["--direction-seeds", "expected"])),
        HostileCase("landscape interpolation between one run", cli("landscape", "--interpolate-runs", "{S}"), .refused(["--interpolate-runs", "expected"])),
        HostileCase("landscape interpolation from a missing run", cli("landscape", "--interpolate-runs", "{S}/a,{S}/b"),
                    .refused(["--interpolate-runs", "not found"])),
        HostileCase("landscape seeds on a trajectory plane", cli("landscape", "--directions", "trajectory", "--run", "{S}", "--direction-seeds", "1,2"),
                    .refused(["--direction-seeds"])),
    ]

    static let trajectoryFiles: [HostileCase] = [
        HostileCase("landscape direction seeds with a direction file", cli("landscape", "--direction-seeds", "1,2", "--dir-file", "{S}/d.dir"),
                    .refused(["--direction-seeds", "--dir-file"]), maxSeconds: 5),
        HostileCase("landscape trajectory of a checkpoint", cli("landscape", "--directions", "trajectory", "--run", "{S}/run", "--checkpoint", "{S}/run"),
                    .refused(["--directions trajectory", "--checkpoint"]), maxSeconds: 5) { try $0.write("x", to: "run/trajectory.bin") },
        HostileCase("landscape trajectory of a run saved without one", cli("landscape", "--directions", "trajectory", "--run", "{S}/run"),
                    .refused(["trajectory.bin", "--save-trajectory"]), maxSeconds: 5) { try $0.mkdir("run") },
        HostileCase("landscape trajectory file of another format", cli("landscape", "--directions", "trajectory", "--run", "{S}/run"),
                    .refused(["trajectory.bin", "TITRAJ01"]), maxSeconds: 5) { try $0.write("step,x,y\n1,2,3\n", to: "run/trajectory.bin") },
        HostileCase("landscape trajectory cut inside θ₀", cli("landscape", "--directions", "trajectory", "--run", "{S}/run"),
                    .refused(["trajectory.bin", "header"]), maxSeconds: 5) {
            try $0.write(Data(TrajectoryFile.header(origin: [1, 2, 3, 4], every: 2).prefix(30)), to: "run/trajectory.bin")
        },
        HostileCase("landscape trajectory with a damaged entry", cli("landscape", "--directions", "trajectory", "--run", "{S}/run"),
                    .refused(["trajectory.bin", "entry 2", "checksum"]), maxSeconds: 5) {
            let origin: [Float] = [1, 2, 3, 4]
            var bytes = TrajectoryFile.header(origin: origin, every: 2)
            for step in [2, 4, 6] { bytes += TrajectoryFile.entry(step: step, parameters: origin.map { $0 + Float(step) }, origin: origin) }
            bytes[bytes.count - 20] ^= 0x01  // inside entry 2's deltas (each entry is 16 bytes)
            try $0.write(Data(bytes), to: "run/trajectory.bin")
        },
        HostileCase("landscape trajectory of one straight line", cli("landscape", "--directions", "trajectory", "--run", "{S}/run"),
                    .refused(["trajectory.bin", "one direction"]), maxSeconds: 5) {
            let origin: [Float] = [1, 2, 3, 4]
            var bytes = TrajectoryFile.header(origin: origin, every: 2)
            for step in [2, 4, 6] { bytes += TrajectoryFile.entry(step: step, parameters: origin.map { $0 + 0.25 * Float(step) }, origin: origin) }
            try $0.write(Data(bytes), to: "run/trajectory.bin")
        },
    ]
}
