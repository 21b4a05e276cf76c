// Q8BERT's int8 export of the tiny model, shared by the export and integer-inference tests.
import XCTest
import Foundation
import TICore

struct TinyQ8BERTExport {
    let model: BertModel
    /// Latent parameters, and the fake-quantized ones the ranges were recorded with.
    let latent: [Float], fake: [Float]
    /// The ranges of one training-mode forward on `Tiny.batch()`.
    let ranges: ActivationRangeState
    /// Q8BERT's config with those ranges, as the export stores it.
    let config: QuantConfig
    /// The file, removed when the test ends.
    let url: URL

    /// Written from `Tiny.parameters(seed:)` with the EMA rule of `start`; `requantizeOutput` adds
    /// Intel's output quantizers (off here by default: most tests look at the Linear's own arithmetic).
    init(_ test: XCTestCase, seed: UInt64 = 4, start: ActivationRangeState = ActivationRangeState(), requantizeOutput: Bool = false) throws {
        model = BertModel(config: Tiny.config())
        latent = Tiny.parameters(model, seed: seed).map(Float.init)
        var cfg = QATConfig(mode: .q8bert)
        cfg.q8bert = Q8BERTOptions()
        cfg.q8bert?.requantizeOutput = requantizeOutput
        let scheme = QATMode.q8bert.method.quantization(config: cfg, ranges: nil)
        let tracker = ActivationRangeTracker(state: start)
        fake = QuantizedParameters(latent: latent, layout: model.layout, config: scheme).effective
        _ = model.forward(effective: fake, batch: Tiny.batch(), options: ForwardOptions(quantization: scheme, rangeTracker: tracker))
        ranges = tracker.state
        config = scheme.with(ranges: ranges)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("q8-\(UUID().uuidString).safetensors")
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try QuantizedExport.write(latent, model: model, config: config, to: url)
        self.url = url
    }
}
