// Corpus, part 1b: the options of counterfactual intervention and oscillation telemetry. Malformed
// lists and bands are refused at parse time; a layer past the model's and a mode that never
// intervenes are refused by the process before a teacher is trained (the runs folder stays empty).
extension HostileCase {
    static let layerCases: [HostileCase] = [
        HostileCase("qat intervene-layers malformed", cli("qat", "--mode", "MI", "--intervene-layers", "0-x"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat intervene-layers reversed range", cli("qat", "--mode", "MI", "--intervene-layers", "2-1"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat intervene-layers empty item", cli("qat", "--mode", "MI", "--intervene-layers", "0,,1"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat oscillation momentum 0", cli("qat", "--track-oscillation", "--oscillation-momentum", "0"), .refused(["--oscillation-momentum", "expected"])).atParseTime(),
        HostileCase("qat oscillation epsilon NaN", cli("qat", "--track-oscillation", "--oscillation-epsilon", "nan"), .refused(["--oscillation-epsilon", "expected"])).atParseTime(),
        HostileCase("process: qat intervene-layers past the model", cli("qat", "--mode", "CI", "--intervene-layers", "0,9"), .refused(["--intervene-layers", "0,9", "layers"])),
        HostileCase("process: qat intervene-layers for KD", cli("qat", "--mode", "KD", "--intervene-layers", "0"), .refused(["--intervene-layers", "KD"])),
    ]
}
