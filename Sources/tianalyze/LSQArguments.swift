// LSQ's options under the seed's names (transformer-quantization's `--qmethod-act`): which activation
// quantizer the learned ranges train. The seed's W4A8 QAT command uses asymmetric_uniform, the default.
import ArgumentParser
import TICore

struct LSQArguments: ParsableArguments {
    @Option(help: "LSQ-W4A8 activations: asymmetric_uniform (learned step and zero point, the seed's default) or symmetric_uniform (learned step).")
    var qmethodAct: LSQActivationMethod?

    /// Before any work: modes that do not learn ranges refuse the option.
    func check(mode: QATMode) throws {
        if !mode.method.takesLSQOptions, let qmethodAct {
            let takers = QATMode.names(where: \.takesLSQOptions)
            throw ValidationError("--qmethod-act \(qmethodAct.rawValue): applies to \(takers) only, not \(mode.rawValue)")
        }
    }

    /// LSQ runs always record their resolved options.
    func apply(to cfg: inout QATConfig) throws {
        try check(mode: cfg.mode)
        guard cfg.mode.method.takesLSQOptions else { return }
        cfg.lsq = LSQOptions(activationMethod: qmethodAct ?? LSQOptions().activationMethod)
    }
}

extension LSQActivationMethod: ExpressibleByArgument {}
