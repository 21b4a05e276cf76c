// `--quant-config FILE` of qat, hessian, landscape and eval: per-tensor weight precisions from an
// allocation.json. The file is read and decoded when the command line is checked; its names and
// shapes are checked against the model once the command has loaded it (QuantConfigFile).
import ArgumentParser
import TIStudies

struct QuantConfigOption: ParsableArguments {
    @Option(name: .customLong("quant-config"), help: "Per-tensor weight precisions (allocation.json of `tianalyze sensitivity`: blocks[].name, shape, precision \"ternary\" or 2…8 bits) replacing the scheme's for the tensors it names.")
    var quantConfig: String?

    func validate() throws {
        try PathChecks.inputFile(quantConfig, "--quant-config")
        _ = try file()
    }

    /// The decoded file, or nil without the option.
    func file() throws -> QuantConfigFile? { try quantConfig.map { try QuantConfigFile(path: $0) } }
}
