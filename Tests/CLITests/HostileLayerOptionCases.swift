// Corpus, part 1b: the options of counterfactual intervention (qat, intervention-map) and oscillation telemetry. Malformed
// lists and bands are refused at parse time; a layer past the model's and a mode that never
// intervenes are refused by the process before a teacher is trained (the runs folder stays empty).
extension HostileCase {
    static let layerCases: [HostileCase] = [
        HostileCase("qat intervene-layers malformed", cli("qat", "--mode", "MI", "--intervene-layers", "0-x"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat intervene-layers reversed range", cli("qat", "--mode", "MI", "--intervene-layers", "2-1"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat intervene-layers empty item", cli("qat", "--mode", "MI", "--intervene-layers", "0,,1"), .refused(["--intervene-layers", "expected"])).atParseTime(),
        HostileCase("qat oscillation momentum 0", cli("qat", "--track-oscillation", "--oscillation-momentum", "0"), .refused(["--oscillation-momentum", "expected"])).atParseTime(),
        HostileCase("qat oscillation epsilon NaN", cli("qat", "--track-oscillation", "--oscillation-epsilon", "nan"), .refused(["--oscillation-epsilon", "expected"])).atParseTime(),
        HostileCase("intervention-map zero samples", cli("intervention-map", "--samples", "0"), .refused(["--samples", "expected"])).atParseTime(),
        HostileCase("intervention-map tolerance 2", cli("intervention-map", "--tol", "2"), .refused(["--tol", "expected"])).atParseTime(),
        HostileCase("intervention-map missing checkpoint", cli("intervention-map", "--checkpoint", "{S}/missing"), .refused(["--checkpoint", "missing"])),
        HostileCase("process: qat intervene-layers past the model", cli("qat", "--mode", "CI", "--intervene-layers", "0,9"), .refused(["--intervene-layers", "0,9", "layers"])),
        HostileCase("process: qat intervene-layers for KD", cli("qat", "--mode", "KD", "--intervene-layers", "0"), .refused(["--intervene-layers", "KD"])),
    ]
}
