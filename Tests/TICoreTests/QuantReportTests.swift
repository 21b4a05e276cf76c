// quant-report's measurements: SQNR by hand, every site keyed per layer, per-dimension ranges that
// expose an outlier dimension, CSV files; and loading a finished run's student with its state.
import XCTest
import Foundation
import TICore
import TILinalg

final class QuantReportTests: XCTestCase {
    func testSitesRangesSQNRAndDimensions() throws {
        let model = BertModel(config: Tiny.config())
        var θ: [Float] = Tiny.parameters(model, seed: 3).map(Float.init)
        // An outlier hidden dimension: LayerNorm gain 3 of layer 0's output is large.
        θ[model.layout.slot("bert.encoder.layer.0.output.LayerNorm.weight").offset + 3] = 20
        let c = PTQ.calibrate(model: model, latent: θ, config: .ptq(), batches: [Tiny.batch()], estimator: .currentMinMax)
        let (sites, dims) = QuantReport.measure(model: model, parameters: θ, quantization: c, batches: [Tiny.batch()])
        let acts = sites.filter { $0.kind == "activation" && $0.quantizer != "none" }
        XCTAssertEqual(acts.count, 31)  // every PTQ site of the embeddings, both layers and the head
        // Linear inputs PTQ leaves alone (their tensors are quantized LayerNorm or GELU outputs already) are
        // reported too, without noise.
        XCTAssertEqual(Set(sites.filter { $0.quantizer == "none" && $0.kind == "activation" }.map(\.name)),
                       ["attentionInput.0", "intermediateInput.0", "intermediateOutput.0", "attentionInput.1", "intermediateInput.1",
                        "intermediateOutput.1", "poolerInput.0", "poolerOutput.0", "classifierInput.0"])
        XCTAssertTrue(acts.allSatisfy { $0.bits == 8 && $0.sqnrDB.isFinite && $0.sqnrDB > 20 }, "\(acts.map(\.sqnrDB))")
        let weights = sites.filter { $0.kind == "weight" }
        XCTAssertEqual(weights.count, model.layout.slots.filter { $0.weightSite != nil }.count)
        // Layer 1's attention input is layer 0's output: dimension 3 has the largest range there.
        let d = dims.filter { $0.site == "attentionInput.1" }
        XCTAssertEqual(d.count, 8)
        XCTAssertEqual(d.max { $0.hi - $0.lo < $1.hi - $1.lo }?.dim, 3)
        // SQNR by hand on a tiny tensor through an asymmetric 2-bit site.
        let one = QuantConfig(name: "t", activations: [.logits: .asymmetric(bits: 2)])
        let (s2, _) = QuantReport.measure(model: model, parameters: θ, quantization: one, batches: [Tiny.batch()])
        let logits = s2.first { $0.name == "logits.0" }!
        let raw = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions<Float>()).logits.array.map(Double.init)
        var out = raw, mask = raw
        ActivationQuantizer.asymmetric(bits: 2).quantize(raw, count: raw.count, out: &out, mask: &mask)
        let signal = raw.map { $0 * $0 }.reduce(0, +), noise = zip(raw, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
        XCTAssertEqual(logits.sqnrDB, 10 * log10(signal / noise), accuracy: 1e-3)
        XCTAssertEqual(s2.first { $0.name == "ffnResidual.0" }?.quantizer, "none")
        XCTAssertEqual(s2.first { $0.name == "ffnResidual.0" }?.sqnrDB, .infinity)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-qr-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try QuantReport.write(sites: sites, dims: dims, to: dir)
        let csv = try String(contentsOf: dir.appendingPathComponent("quant-dims.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "site,dim,lo,hi,range")
        XCTAssertEqual(csv.count, 1 + dims.count)
        // Every quant-sites.csv row has exactly eight comma-separated fields, PEG's label included
        // (gnuplot splits quoted fields on commas too).
        var peg = sites[0]
        peg.quantizer = ActivationQuantizer.perEmbeddingGroup(bits: 8, groups: 6, permute: true).label
        XCTAssertTrue(peg.quantizer.contains(","))
        try QuantReport.write(sites: sites + [peg], dims: dims, to: dir)
        let rows = try String(contentsOf: dir.appendingPathComponent("quant-sites.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 2 + sites.count)
        for row in rows { XCTAssertEqual(row.split(separator: ",", omittingEmptySubsequences: false).count, 8, String(row)) }
        XCTAssertTrue(rows.last!.contains("\"asym8(peg;ngp6)\""), String(rows.last!))
    }

    func testLoadStudentResolvesLSQStepsAndRanges() throws {
        let data = SyntheticTaskGenerator(task: .count).make(train: 32, dev: 16)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .lsqW4A8)
        cfg.epochs = 1; cfg.batchSize = 16; cfg.devProbeSize = 16
        var o = PTQOptions(); o.calibrationBatches = 1; o.calibrationBatchSize = 8; o.quantDict = ["y": 16]
        cfg.ptq = o
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-load-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let (θ, summary, _) = try QATRun(model: model, task: data, teacher: model.initialParameters(seed: 2, std: 0.3), config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        let s = try QATRun.loadStudent(dir)
        XCTAssertEqual(s.parameters, θ)
        XCTAssertEqual(s.model.layout.count, θ.count)
        XCTAssertNotNil(s.quantization.ranges)
        XCTAssertEqual(Evaluator<Float>(model: s.model, task: data).evaluate(s.parameters, quantization: s.quantization).metric,
                       summary.finalDevMetric)
    }
}
