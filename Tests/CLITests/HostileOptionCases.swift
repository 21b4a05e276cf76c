// Corpus, part 1: option values outside their stated domain. Every one must be refused when the
// command line is parsed, naming the flag, before a teacher is trained or a file is written (the
// runs folder is empty, so a command that gets past validation would start training one).
extension HostileCase {
    /// Judged by parsing in the test process; a sample also runs the executable (`processSample`).
    static let optionCases: [HostileCase] = (landscapeOptions + hessianOptions + trainingOptions + otherOptions + curvatureOptions).map { $0.atParseTime() }
        + processSample + HostileCase.layerCases

    /// A few option refusals through the real process: main prints the same line and exit code.
    static let processSample: [HostileCase] = [
        HostileCase("process: landscape grid overflowing Int", cli("landscape", "--grid", "3037000500"), .refused(["--grid", "3037000500", "expected"])),
        HostileCase("process: qat learning rate 1e3", cli("qat", "--lr", "1e3"), .refused(["--lr", "expected"])),
        HostileCase("process: hessian tolerance NaN", cli("hessian", "--tol", "nan"), .refused(["--tol", "expected"])),
        HostileCase("process: Q8BERT's STE under KD", cli("qat", "--mode", "KD", "--ste", "clip-mask"), .refused(["--ste", "Q8BERT"])),
        HostileCase("process: PEG shared-h under ADAROUND-W4", cli("qat", "--mode", "ADAROUND-W4", "--peg", "ngp6", "--peg-permute-shared-h"),
                    .refused(["--peg", "PTQ-W8A8", "ADAROUND-W4"])),
    ]

    static let landscapeOptions: [HostileCase] = [
        HostileCase("landscape grid overflowing Int", cli("landscape", "--grid", "3037000500"), .refused(["--grid", "3037000500", "expected"])),
        HostileCase("landscape grid of 10^10 points", cli("landscape", "--grid", "100000"), .refused(["--grid", "100000", "expected"])),
        HostileCase("landscape grid of zero points", cli("landscape", "--grid", "0"), .refused(["--grid", "expected"])),
        HostileCase("landscape axis of zero points", cli("landscape", "--grid=-1:1:0"), .refused(["--grid", "expected"])),
        HostileCase("landscape huge second axis", cli("landscape", "--grid", "41,100000"), .refused(["--grid", "expected"])),
        HostileCase("landscape x and y of 25 million points", cli("landscape", "--x=-1:1:5000", "--y=-1:1:5000"), .refused(["points", "expected"])),
        HostileCase("landscape negative eval size", cli("landscape", "--eval-size=-1"), .refused(["--eval-size", "-1", "expected"])),
        HostileCase("landscape zero eval size", cli("landscape", "--eval-size", "0"), .refused(["--eval-size", "expected"])),
        HostileCase("landscape zero batch", cli("landscape", "--batch-size", "0"), .refused(["--batch-size", "expected"])),
        HostileCase("landscape reversed range", cli("landscape", "--range", "1:-1"), .refused(["--range", "expected"])),
        HostileCase("landscape NaN range", cli("landscape", "--range=nan:1"), .refused(["--range", "expected"])),
        HostileCase("landscape infinite range", cli("landscape", "--range=-inf:1"), .refused(["--range", "expected"])),
        HostileCase("landscape range so small coordinates collide", cli("landscape", "--range=-1e-300:1e-300"), .refused(["--range", "expected"])),
        HostileCase("landscape negative range in the space form", cli("landscape", "--range", "-0.5:0.5", "--grid", "0"), .refused(["--grid", "expected"])),
        HostileCase("landscape sequence length 10^12", cli("landscape", "--max-seq-length", "1000000000000"), .refused(["--max-seq-length", "expected"])),
        HostileCase("landscape shard past its count", cli("landscape", "--shard", "3/2"), .refused(["--shard"])),
        HostileCase("landscape shard of zero", cli("landscape", "--shard=0/0"), .refused(["--shard"])),
        HostileCase("landscape zero threads", cli("landscape", "--threads", "0"), .refused(["--threads", "expected"])),
        HostileCase("landscape eigen directions file missing", cli("landscape", "--eigen-dirs", "{S}/missing.dir"), .refused(["missing.dir"]), maxSeconds: 5),
    ]

    static let hessianOptions: [HostileCase] = [
        HostileCase("hessian top-k 0", cli("hessian", "--top-k", "0"), .refused(["--top-k", "expected"])),
        HostileCase("hessian top-k 100000", cli("hessian", "--top-k", "100000"), .refused(["--top-k", "expected"])),
        HostileCase("hessian tolerance NaN", cli("hessian", "--tol", "nan"), .refused(["--tol", "expected"])),
        HostileCase("hessian tolerance infinite", cli("hessian", "--tol", "inf"), .refused(["--tol", "expected"])),
        HostileCase("hessian tolerance 0", cli("hessian", "--tol", "0"), .refused(["--tol", "expected"])),
        HostileCase("hessian zero iterations", cli("hessian", "--max-iter", "0"), .refused(["--max-iter", "expected"])),
        HostileCase("hessian negative iterations", cli("hessian", "--max-iter=-3"), .refused(["--max-iter", "expected"])),
        HostileCase("hessian zero batch", cli("hessian", "--batch-size", "0"), .refused(["--batch-size", "expected"])),
        HostileCase("hessian 10^8 Lanczos steps", cli("hessian", "--lanczos-steps", "100000000"), .refused(["--lanczos-steps", "expected"])),
        HostileCase("hessian negative Lanczos steps", cli("hessian", "--lanczos-steps=-1"), .refused(["--lanczos-steps", "expected"])),
        HostileCase("hessian zero samples", cli("hessian", "--samples", "0"), .refused(["--samples", "expected"])),
        HostileCase("hessian negative samples", cli("hessian", "--samples=-5"), .refused(["--samples", "expected"])),
        HostileCase("hessian negative trace probes", cli("hessian", "--trace-probes=-1"), .refused(["--trace-probes", "expected"])),
        HostileCase("hessian negative per-example", cli("hessian", "--per-example=-2"), .refused(["--per-example", "expected"])),
        HostileCase("hessian NaN norm penalty", cli("hessian", "--norm-penalty", "nan"), .refused(["--norm-penalty", "expected"])),
        HostileCase("hessian zero HVP step", cli("hessian", "--hvp-step", "0"), .refused(["--hvp-step", "expected"])),
        HostileCase("hessian infinite HVP step", cli("hessian", "--hvp-step", "inf"), .refused(["--hvp-step", "expected"])),
        HostileCase("hessian sequence length 10^12", cli("hessian", "--max-seq-length", "1000000000000"), .refused(["--max-seq-length", "expected"])),
    ]

    static let trainingOptions: [HostileCase] = [
        HostileCase("qat zero batch", cli("qat", "--batch-size", "0"), .refused(["--batch-size", "expected"])),
        HostileCase("qat evaluating every 0 steps", cli("qat", "--eval-every", "0"), .refused(["--eval-every", "expected"])),
        HostileCase("qat negative epochs", cli("qat", "--epochs=-1"), .refused(["--epochs", "expected"])),
        HostileCase("qat zero epochs", cli("qat", "--epochs", "0"), .refused(["--epochs", "expected"])),
        HostileCase("qat infinite learning rate", cli("qat", "--lr", "inf"), .refused(["--lr", "expected"])),
        HostileCase("qat learning rate 1e3", cli("qat", "--lr", "1e3"), .refused(["--lr", "expected"])),
        HostileCase("qat zero learning rate", cli("qat", "--lr", "0"), .refused(["--lr", "expected"])),
        HostileCase("qat negative learning rate", cli("qat", "--lr=-1e-4"), .refused(["--lr", "expected"])),
        HostileCase("qat NaN learning rate", cli("qat", "--lr", "nan"), .refused(["--lr", "expected"])),
        HostileCase("qat zero step-1 length", cli("qat", "--step-one", "0"), .refused(["--step-one", "expected"])),
        HostileCase("qat zero calibration batches", cli("qat", "--mode", "PTQ-W8A8", "--calibration-batches", "0"), .refused(["--calibration-batches", "expected"])),
        HostileCase("qat zero calibration batch size", cli("qat", "--mode", "PTQ-W8A8", "--calibration-batch-size", "0"), .refused(["--calibration-batch-size", "expected"])),
        HostileCase("qat negative AdaRound iterations", cli("qat", "--mode", "ADAROUND-W4", "--adaround-iterations=-1"), .refused(["--adaround-iterations", "expected"])),
        HostileCase("qat Q8BERT EMA decay 1", cli("qat", "--mode", "Q8BERT", "--ema-decay", "1"), .refused(["--ema-decay", "expected"])),
        HostileCase("qat Q8BERT EMA decay NaN", cli("qat", "--mode", "Q8BERT", "--ema-decay", "nan"), .refused(["--ema-decay", "expected"])),
        HostileCase("qat unknown EMA start", cli("qat", "--mode", "Q8BERT", "--ema-start", "zero"), .refused(["--ema-start", "zero"])),
        HostileCase("qat unknown STE", cli("qat", "--mode", "Q8BERT", "--ste", "identity"), .refused(["--ste", "identity"])),
        HostileCase("qat AdaRound learning rate 0", cli("qat", "--mode", "ADAROUND-W4", "--adaround-lr", "0"), .refused(["--adaround-lr", "expected"])),
        HostileCase("qat unknown AdaRound decay", cli("qat", "--mode", "ADAROUND-W4", "--adaround-decay-type", "sigmoid"), .refused(["--adaround-decay-type", "sigmoid"])),
        HostileCase("qat PEG sites all mixed with names", cli("qat", "--mode", "PTQ-W8A8", "--peg", "ng6", "--peg-sites", "all,x"), .refused(["--peg-sites", "all,x", "expected"])),
        HostileCase("qat PEG of zero groups", cli("qat", "--mode", "PTQ-W8A8", "--peg", "ngp0", "--peg-sites", "all"), .refused(["--peg", "ngp0", "expected"])),
        HostileCase("qat PEG shared-h without a permutation", cli("qat", "--mode", "PTQ-W8A8", "--peg", "ng6", "--peg-permute-shared-h"), .refused(["--peg", "ngpK"])),
        HostileCase("qat PEG sites without --peg", cli("qat", "--mode", "PTQ-W8A8", "--peg-sites", "all"), .refused(["--peg-sites", "needs --peg"])),
        HostileCase("qat PEG shared-h without --peg", cli("qat", "--mode", "PTQ-W8A8", "--peg-permute-shared-h"), .refused(["--peg-permute-shared-h", "needs --peg"])),
        HostileCase("qat PEG under LSQ", cli("qat", "--mode", "LSQ-W4A8", "--peg", "ngp6"), .refused(["--peg", "PTQ-W8A8", "LSQ-W4A8"])),
        HostileCase("qat unknown LSQ activation method", cli("qat", "--mode", "LSQ-W4A8", "--qmethod-act", "asym"), .refused(["--qmethod-act", "asym"])),
        HostileCase("qat LSQ activation method under PTQ", cli("qat", "--mode", "PTQ-W8A8", "--qmethod-act", "symmetric_uniform"), .refused(["--qmethod-act", "LSQ-W4A8", "PTQ-W8A8"])),
        HostileCase("qat negative sequence length", cli("qat", "--max-seq-length=-1"), .refused(["--max-seq-length", "expected"])),
        HostileCase("finetune NaN learning rate", cli("finetune", "--lr", "nan"), .refused(["--lr", "expected"])),
        HostileCase("finetune zero epochs", cli("finetune", "--epochs", "0"), .refused(["--epochs", "expected"])),
        HostileCase("finetune negative batch", cli("finetune", "--batch-size=-4"), .refused(["--batch-size", "expected"])),
        HostileCase("finetune zero patience", cli("finetune", "--patience", "0"), .refused(["--patience", "expected"])),
        HostileCase("finetune evaluating every 0 steps", cli("finetune", "--eval-every", "0"), .refused(["--eval-every", "expected"])),
        HostileCase("finetune zero training examples", cli("finetune", "--train-size", "0"), .refused(["--train-size", "expected"])),
        HostileCase("finetune 10^12 training examples", cli("finetune", "--train-size", "1000000000000"), .refused(["--train-size", "expected"])),
        HostileCase("dynamics unknown mode", cli("dynamics", "--modes", "KD,TI-X"), .refused(["TI-X"])),
        HostileCase("dynamics grid of 2 points", cli("dynamics", "--grid", "2"), .refused(["--grid", "expected"])),
        HostileCase("dynamics zero curvature interval", cli("dynamics", "--track-curvature", "0"), .refused(["--track-curvature", "expected"])),
        HostileCase("dynamics malformed direction seeds", cli("dynamics", "--direction-seeds", "1,x"), .refused(["x"])),
        HostileCase("compare zero epochs", cli("compare", "--epochs", "0"), .refused(["--epochs", "expected"])),
        HostileCase("compare infinite learning rate", cli("compare", "--lr", "inf"), .refused(["--lr", "expected"])),
    ]

    static let otherOptions: [HostileCase] = [
        HostileCase("probe zero samples", cli("probe", "--samples", "0"), .refused(["--samples", "expected"])),
        HostileCase("probe zero batch", cli("probe", "--batch-size", "0"), .refused(["--batch-size", "expected"])),
        HostileCase("probe zero repeats", cli("probe", "--repeats", "0"), .refused(["--repeats", "expected"])),
        HostileCase("probe negative top-k", cli("probe", "--top-k=-1"), .refused(["--top-k", "expected"])),
        HostileCase("probe negative trace probes", cli("probe", "--trace-probes=-3"), .refused(["--trace-probes", "expected"])),
        HostileCase("probe negative landscape eval size", cli("probe", "--landscape-eval-size=-1"), .refused(["--landscape-eval-size", "expected"])),
        HostileCase("quant-report zero batches", cli("quant-report", "--batches", "0"), .refused(["--batches", "expected"])),
        HostileCase("quant-report zero batch", cli("quant-report", "--batch-size", "0"), .refused(["--batch-size", "expected"])),
        HostileCase("render-task zero training examples", ["render-task", "--train-size", "0", "--out", "{S}/rt"], .refused(["--train-size", "expected"])),
        HostileCase("render-task negative dev examples", ["render-task", "--dev-size=-5", "--out", "{S}/rt"], .refused(["--dev-size", "expected"])),
        HostileCase("bench zero repeats", ["bench", "--repeats", "0", "--quiet"], .refused(["--repeats", "expected"])),
        HostileCase("eval zero samples", cli("eval", "--samples", "0", "--load-quantized", "{S}/x-int8.safetensors"), .refused(["--samples"])),
        HostileCase("tokenize sequence length 10^12", ["tokenize", "--checkpoint", "{S}/ck", "--text", "a b", "--max-seq-length", "1000000000000"],
                    .refused(["--max-seq-length", "expected"])) { try $0.checkpoint("ck") },
    ]
}
