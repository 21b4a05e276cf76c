import ArgumentParser
import Foundation
import TICore
import TIStudies
import TILinalg

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm and forward+backward throughput at the default and BERT-base shapes (ratios within one run).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Timed repetitions per measurement (median reported).") var repeats: Int = 5

    func validate() throws { try Domain.count(repeats, "--repeats", Domain.repeats, "repetitions") }

    func run() throws {
        common.apply()
        // The small model runs one BLAS thread per worker elsewhere; BERT-base shapes are big
        // enough for OpenBLAS's own threads, so both are measured as they are used.
        BLAS.setThreads(common.threads)
        print("OpenBLAS core \(BLAS.coreName), \(BLAS.threads) threads")
        let small = BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 64, numLabels: 8)
        let base = BertConfig(vocabSize: 1000, hiddenSize: 768, numLayers: 2, numHeads: 12, intermediateSize: 3072,
                              maxPositions: 128, numLabels: 2)
        let rows = [
            ModelBenchmark.row("default model fwd+bwd (B=32, T=26)", small, batch: 32, seq: 26, repeats: repeats),
            ModelBenchmark.row("BERT-base layers fwd+bwd (2 layers, B=8, T=128)", base, batch: 8, seq: 128, repeats: repeats),
        ]
        for (cfg, n, label) in [(small, 32 * 26, "default"), (base, 8 * 128, "BERT-base")] {
            print(String(format: "sgemm at %@ Linear shapes: %.1f GFLOP/s", label, ModelBenchmark.sgemmRate(cfg, rows: n)))
        }
        for (cfg, n, label) in [(small, 32 * 26, "default"), (base, 8 * 128, "BERT-base")] {
            guard let r = ModelBenchmark.int8Speedup(cfg, rows: n, repeats: max(5, 2 * repeats + 1)) else {
                print("int8 GEMM: no AMX int8 tiles here, ternary layers use sgemm"); break
            }
            print("int8 GEMM (AMX, packing included) vs sgemm at \(label) Linear shapes (rows×out×in): "
                  + r.map { String(format: "%@ %.1f×", $0.shape, $0.ratio) }.joined(separator: ", "))
        }
        for (label, cfg, b, t) in [("default model, B=32 T=26", small, 32, 26), ("BERT-base layers, B=8 T=128", base, 8, 128)] {
            let (h, g) = ModelBenchmark.hvpCost(Double.self, cfg, batch: b, seq: t, repeats: max(1, repeats / 2))
            print(String(format: "HVP (f64, ternary KD) %@: %.2f× one gradient (%.0f vs %.0f ms)", label, h / g, h * 1000, g * 1000))
        }
        for r in rows {
            print(String(format: "%@: %.2f ms/step, %.1f GFLOP/s = %.0f%% of sgemm at these shapes",
                         r.name, r.seconds * 1000, r.gflops, 100 * r.shareOfSgemm))
        }
    }
}
