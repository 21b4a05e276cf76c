// Corpus, part 4: `sensitivity`'s options and `--quant-config` files. Option values are refused when
// the command line is parsed; a malformed file when it is read (before any model is loaded), and one
// that does not fit the model as soon as the model is known (before any training or analysis).
import Foundation

extension HostileCase {
    static let sensitivityCases: [HostileCase] = sensitivityOptions.map { $0.atParseTime() } + quantConfigFiles

    static let sensitivityOptions: [HostileCase] = [
        HostileCase("sensitivity zero budget", cli("sensitivity", "--budget-mb", "0"), .refused(["--budget-mb", "expected"])),
        HostileCase("sensitivity NaN budget", cli("sensitivity", "--budget-mb", "nan"), .refused(["--budget-mb", "expected"])),
        HostileCase("sensitivity one bit per weight", cli("sensitivity", "--avg-bits", "1"), .refused(["--avg-bits", "expected"])),
        HostileCase("sensitivity infinite bits", cli("sensitivity", "--avg-bits", "inf"), .refused(["--avg-bits", "expected"])),
        HostileCase("sensitivity two budgets", cli("sensitivity", "--budget-mb", "1", "--avg-bits", "3"), .refused(["--budget-mb", "--avg-bits"])),
        HostileCase("sensitivity one trace probe", cli("sensitivity", "--trace-probes", "1"), .refused(["--trace-probes", "expected"])),
        HostileCase("sensitivity negative eigen iterations", cli("sensitivity", "--eigen-iter=-1"), .refused(["--eigen-iter", "expected"])),
        HostileCase("sensitivity zero tolerance", cli("sensitivity", "--tol", "0"), .refused(["--tol", "expected"])),
        HostileCase("sensitivity zero samples", cli("sensitivity", "--samples", "0"), .refused(["--samples", "expected"])),
    ]

    /// An allocation.json with one block entry (raw JSON fields spliced in).
    static func allocation(_ entry: String) -> String { "{\"blocks\": [" + entry + "]}" }
    static let query = "\"name\": \"bert.encoder.layer.0.attention.self.query.weight\""

    static func quantConfig(_ name: String, _ command: [String], _ json: String, _ fragments: [String], teacher: Bool = true) -> HostileCase {
        HostileCase(name, command + ["--quant-config", "{S}/a.json", "--runs", "{R}", "--quiet"], .refused(["a.json"] + fragments), maxSeconds: 10) {
            if teacher { try $0.teacher() }
            try $0.write(json, to: "a.json")
        }
    }

    static let quantConfigFiles: [HostileCase] = [
        HostileCase("quant-config missing", cli("qat", "--quant-config", "{S}/none.json"), .refused(["none.json"]), maxSeconds: 5),
        quantConfig("quant-config not JSON", ["qat"], "{blocks", ["malformed"], teacher: false),
        quantConfig("quant-config empty blocks", ["eval", "--checkpoint", "{S}/runs/teacher-count"], allocation(""), ["blocks", "empty"]),
        quantConfig("quant-config precision 5x", ["qat"], allocation("{\(query), \"shape\": [8, 8], \"precision\": \"5x\"}"), ["precision", "5x"], teacher: false),
        quantConfig("quant-config one bit", ["hessian"], allocation("{\(query), \"shape\": [8, 8], \"precision\": 1}"), ["precision", "1 bits"], teacher: false),
        quantConfig("quant-config without shape", ["landscape"], allocation("{\(query), \"precision\": 4}"), ["shape"], teacher: false),
        quantConfig("quant-config name twice", ["qat"],
                    allocation("{\(query), \"shape\": [8, 8], \"precision\": 4}, {\(query), \"shape\": [8, 8], \"precision\": 2}"), ["appears twice"], teacher: false),
        quantConfig("quant-config unknown tensor", ["qat"], allocation("{\"name\": \"bert.nope.weight\", \"shape\": [8, 8], \"precision\": 4}"),
                    ["blocks[0].name", "bert.nope.weight"]),
        quantConfig("quant-config LayerNorm tensor", ["qat"],
                    allocation("{\"name\": \"bert.encoder.layer.0.attention.output.LayerNorm.weight\", \"shape\": [8], \"precision\": 4}"),
                    ["blocks[0].name", "not a quantized weight tensor"]),
        quantConfig("quant-config shape mismatch", ["qat"], allocation("{\(query), \"shape\": [16, 8], \"precision\": 4}"), ["blocks[0].shape"]),
        quantConfig("quant-config for an FP checkpoint's eval with a wrong shape", ["eval", "--checkpoint", "{S}/runs/teacher-count"],
                    allocation("{\(query), \"shape\": [8, 4], \"precision\": 4}"), ["blocks[0].shape"]),
        HostileCase("quant-config for LSQ", cli("qat", "--mode", "LSQ-W4A8", "--quant-config", "{S}/a.json"), .refused(["--quant-config", "LSQ-W4A8"]), maxSeconds: 10) {
            try $0.teacher()
            try $0.write(allocation("{\(query), \"shape\": [8, 8], \"precision\": 4}"), to: "a.json")
        },
    ]
}
