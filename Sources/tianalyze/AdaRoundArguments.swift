// AdaRound's options under the seed's names (transformer-quantization's `--adaround-*`), with its
// published W4A32 command as the defaults.
import ArgumentParser
import TICore

struct AdaRoundArguments: ParsableArguments {
    @Option(name: [.customLong("adaround-iters"), .customLong("adaround-iterations")],
            help: "AdaRound iterations per layer (the seed's published command: 10000).")
    var adaroundIterations: Int = AdaRoundOptions().iterations
    @Option(help: "AdaRound Adam learning rate (seed: 1e-3).")
    var adaroundLr: Double = AdaRoundOptions().learningRate
    @Option(help: "AdaRound β annealing after the warm-up: cosine (seed's default) or linear.")
    var adaroundDecayType: AdaRoundDecay = AdaRoundOptions().decay
    @Flag(inversion: .prefixedNo, help: "AdaRound reconstruction from the inputs of the network with the earlier layers rounded (seed: on).")
    var adaroundAsym: Bool = AdaRoundOptions().asymmetric

    func validate() throws {
        try Domain.count(adaroundIterations, "--adaround-iterations", Domain.steps, "iterations")
        guard adaroundLr.isFinite, adaroundLr > 0, adaroundLr <= 1 else {
            throw ValidationError("--adaround-lr \(adaroundLr): expected a learning rate in (0, 1]")
        }
    }

    var options: AdaRoundOptions {
        var a = AdaRoundOptions()
        a.iterations = adaroundIterations; a.learningRate = adaroundLr
        a.decay = adaroundDecayType; a.asymmetric = adaroundAsym
        return a
    }

    /// AdaRound modes record every choice; other modes refuse changed AdaRound options.
    func apply(to cfg: inout QATConfig) throws {
        guard cfg.mode.method.takesAdaRoundOptions else {
            if options != AdaRoundOptions() {
                let takers = QATMode.names(where: \.takesAdaRoundOptions)
                throw ValidationError("--adaround-* options apply to \(takers), not \(cfg.mode.rawValue)")
            }
            return
        }
        cfg.adaRound = options
    }
}

extension AdaRoundDecay: ExpressibleByArgument {}
