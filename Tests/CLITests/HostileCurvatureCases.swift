// Corpus, curvature tracking options of `qat` (CurvatureTrackingOptions.swift): refused when the
// command line is parsed, naming the flag, before a teacher is trained or a file is written.
extension HostileCase {
    static let curvatureOptions: [HostileCase] = [
        HostileCase("qat curvature every 0 steps", cli("qat", "--track-curvature", "0"), .refused(["--track-curvature", "expected"])),
        HostileCase("qat curvature every -5 steps", cli("qat", "--track-curvature=-5"), .refused(["--track-curvature", "expected"])),
        HostileCase("qat curvature every 'often'", cli("qat", "--track-curvature", "often"), .refused(["--track-curvature", "often", "expected"])),
        HostileCase("qat curvature every 1e3 steps", cli("qat", "--track-curvature", "1e3"), .refused(["--track-curvature", "expected"])),
        HostileCase("qat curvature every 10^20 steps", cli("qat", "--track-curvature", "100000000000000000000"), .refused(["--track-curvature", "expected"])),
        HostileCase("qat zero probe examples", cli("qat", "--track-curvature", "auto", "--probe-examples", "0"), .refused(["--probe-examples", "expected"])),
        HostileCase("qat negative probe examples", cli("qat", "--probe-examples=-3"), .refused(["--probe-examples", "expected"])),
        HostileCase("qat minibatch steps reversed range", cli("qat", "--track-minibatch-eigs", "50-1"), .refused(["--track-minibatch-eigs", "50-1", "expected"])),
        HostileCase("qat minibatch step 0", cli("qat", "--track-minibatch-eigs", "0-3"), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch empty item", cli("qat", "--track-minibatch-eigs", "1,,2"), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch empty list", cli("qat", "--track-minibatch-eigs", ""), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch three bounds", cli("qat", "--track-minibatch-eigs", "1-2-3"), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch words", cli("qat", "--track-minibatch-eigs", "first-last"), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch a billion steps", cli("qat", "--track-minibatch-eigs", "1-1000000000"), .refused(["--track-minibatch-eigs", "expected"])),
        HostileCase("qat minibatch step past Int", cli("qat", "--track-minibatch-eigs", "1-99999999999999999999"), .refused(["--track-minibatch-eigs", "expected"])),
    ]
}
