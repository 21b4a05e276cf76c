import ArgumentParser
import Foundation
import TICore
import TIStudies
import TILinalg

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput (sgemm, forward+backward, HVP, int8 GEMM) and the speedup from 1 to --threads threads (train steps, HVP, landscape point), as ratios within one run.")

    enum Part: String, ExpressibleByArgument, CaseIterable { case all, throughput, scaling }

    @OptionGroup var common: CommonOptions
    @Option(help: "Timed repetitions per measurement (median reported).") var repeats: Int = 5
    @Option(help: "What to measure: all, throughput (one thread count) or scaling (1 → 2 → --threads).") var part: Part = .all
    @Option(help: "Scaling: only the units whose name contains this text (e.g. \"TI-G\", \"BERT-base\", \"HVP\").") var only: String?

    func validate() throws { try Domain.count(repeats, "--repeats", Domain.repeats, "repetitions") }

    func run() throws {
        common.apply()
        print("OpenBLAS core \(BLAS.coreName); GEMMs split into shape-determined blocks on \(common.threads) thread(s)")
        if part != .scaling { throughput() }
        if part != .throughput { try scaling() }
    }

    static let small = BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 64, numLabels: 8)
    static let miniLM = BertConfig(vocabSize: 1000, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536,
                                   maxPositions: 128, numLabels: 2)
    static let base = BertConfig(vocabSize: 1000, hiddenSize: 768, numLayers: 2, numHeads: 12, intermediateSize: 3072,
                                 maxPositions: 128, numLabels: 2)

    func throughput() {
        let small = Self.small, base = Self.base
        let rows = [
            ModelBenchmark.row("default model fwd+bwd (B=32, T=26)", small, batch: 32, seq: 26, repeats: repeats),
            ModelBenchmark.row("BERT-base layers fwd+bwd (2 layers, B=8, T=128)", base, batch: 8, seq: 128, repeats: repeats),
        ]
        for (cfg, n, label) in [(small, 32 * 26, "default"), (base, 8 * 128, "BERT-base")] {
            print(String(format: "sgemm at %@ Linear shapes: %.1f GFLOP/s", label, ModelBenchmark.sgemmRate(cfg, rows: n)))
        }
        for (cfg, n, label) in [(small, 32 * 26, "default"), (base, 8 * 128, "BERT-base")] {
            guard let r = ModelBenchmark.int8Speedup(cfg, rows: n, repeats: max(5, 2 * repeats + 1)) else {
                print("int8 GEMM: not available here, ternary layers use sgemm"); break
            }
            print("int8 GEMM (\(Int8GEMM.kernelName), packing included) vs sgemm at \(label) Linear shapes (rows×out×in): "
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

    /// Speedup from 1 thread to 2 (and to --threads when larger) per unit of work, with the serial
    /// fraction it implies and Amdahl's prediction for 16, 32 and 64 cores.
    func scaling() throws {
        let counts = Array(Set([2, common.threads])).sorted()
        // Built one at a time when measured, so that only one model's buffers are held at once.
        var units: [(String, () throws -> () -> Void)] = []
        for (label, cfg, b, t) in [("default (B=32, T=26)", Self.small, 32, 26), ("MiniLM-L6 (6 layers, B=8, T=128)", Self.miniLM, 8, 128),
                                   ("BERT-base (2 layers, B=8, T=128)", Self.base, 8, 128)] {
            for kind in ScalingWorkload.TrainKind.allCases {
                units.append(("train step \(kind.rawValue), \(label)", { ScalingWorkload.trainStep(kind, cfg, batch: b, seq: t) }))
            }
        }
        units.append(("HVP f64 ternary KD, default (B=32, T=26)", { ScalingWorkload.hvp(Self.small, batch: 32, seq: 26) }))
        units.append(("HVP f64 ternary KD, BERT-base (2 layers, B=8, T=128)", { ScalingWorkload.hvp(Self.base, batch: 8, seq: 128) }))
        units.append(("landscape point KD + TI-G, default (64 dev examples)", {
            let target = ScalingWorkload.embeddedTarget()
            return try ScalingWorkload.landscapePoint(target, examples: Array(target.task.dev.prefix(64)), batchSize: 32)
        }))
        print("Thread scaling: median of \(repeats) interleaved 1-thread/N-thread pairs. f: Amdahl's serial fraction, from the speedup and"
              + " as metered at 1 thread (time outside splittable work; unaffected by other jobs); predicted speedups on 16/32/64 cores from the metered f")
        for (name, make) in units where only.map({ name.contains($0) }) ?? true {
            let body = try make()
            for n in counts {
                let r = ThreadScaling.measure(name, threads: n, repeats: repeats, body)
                let f = r.meteredSerialFraction
                print(String(format: "  %@: %.1f → %.1f ms on %d threads = %.2f× (f = %.2f); metered f = %.3f → %.2f× on %d, %.1f× / %.1f× / %.1f×",
                             name, r.serialSeconds * 1000, r.parallelSeconds * 1000, n, r.speedup, r.serialFraction, f,
                             ThreadScaling.amdahl(serialFraction: f, cores: n), n,
                             ThreadScaling.amdahl(serialFraction: f, cores: 16), ThreadScaling.amdahl(serialFraction: f, cores: 32),
                             ThreadScaling.amdahl(serialFraction: f, cores: 64)))
                fflush(stdout)
            }
        }
    }
}
