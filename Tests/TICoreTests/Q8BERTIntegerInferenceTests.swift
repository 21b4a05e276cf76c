// Q8BERT's int8 export run in integer arithmetic (every Linear as int8 × int8 + int32 bias,
// IntegerLinears) against the same file run as a fake-quantized float model: logits within one
// step of the classifier's output grid, the same bits on every kernel and thread count, and input
// codes that are exactly the fake quantizer's.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class Q8BERTIntegerInferenceTests: XCTestCase {
    /// A tiny Q8BERT model's export (Intel's EMA rule and STE), loaded back.
    func export() throws -> (model: BertModel, θ: [Float], q: QuantConfig, url: URL) {
        let e = try TinyQ8BERTExport(self, start: ActivationRangeState(decay: 0.9999, start: .firstValue, straightThrough: true))
        let (θ, q) = try QuantizedExport.load(e.url, model: e.model)
        return (e.model, θ, q, e.url)
    }

    /// 48 random sequences of the tiny vocabulary (ragged lengths): inputs beyond the ranges' batch clip.
    func randomBatch() -> Batch {
        var rng = SeededRandom(seed: 77)
        let size = 48, seq = 8
        var tokens: [Int] = [], types: [Int] = [], mask: [Int] = []
        for _ in 0..<size {
            let length = 2 + rng.below(seq - 1)
            for t in 0..<seq {
                tokens.append(t < length ? 1 + rng.below(10) : 0)
                types.append(t < length / 2 ? 0 : 1)
                mask.append(t < length ? 1 : 0)
            }
        }
        return Batch(size: size, seqLen: seq, tokens: tokens, tokenTypes: types, attentionMask: mask,
                     labels: (0..<size).map { $0 % 3 }, targets: [])
    }

    func logits(_ e: (model: BertModel, θ: [Float], q: QuantConfig, url: URL), _ linears: IntegerLinears?, batch: Batch) -> [Float] {
        var options = ForwardOptions<Float>(quantization: e.q)
        options.integerLinears = linears
        return e.model.forward(effective: e.θ, batch: batch, options: options).logits.array
    }

    func testIntegerLogitsEqualTheFakeQuantizedWithinOneStep() throws {
        let e = try export()
        let linears = try QuantizedExport.integerLinears(e.url, model: e.model, quantization: e.q)
        XCTAssertEqual(linears.byWeightOffset.count, 2 * 6 + 2, "Q, K, V, O, FFN1, FFN2 per layer, pooler, classifier")
        for l in linears.byWeightOffset.values {
            guard case .kernel(let k, _) = l.route else { return XCTFail("\(l.route): the kernel must run") }
            XCTAssertEqual(k, Int8GEMM.kernel, "the picked kernel (\(Int8GEMM.kernelName))")
        }
        let classifier = try XCTUnwrap(linears.byWeightOffset[e.model.offsets.classifier.weight])
        let step = classifier.outputStep
        for batch in [Tiny.batch(), randomBatch()] {
            let fake = logits(e, nil, batch: batch), integer = logits(e, linears, batch: batch)
            XCTAssertEqual(fake.count, integer.count)
            let worst = zip(fake, integer).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, step, "max |Δlogit| = \(worst / step) steps of \(step)")
            XCTAssertGreaterThan(fake.map(abs).max()!, 100 * step, "the step is small against the logits")
        }
        // The check can fail: classifier bias codes 2 off move every logit by 2 steps.
        var table = linears.byWeightOffset
        table[e.model.offsets.classifier.weight] = try IntegerLinear(
            weightCodes: classifier.weightCodes, outFeatures: classifier.outFeatures, inFeatures: classifier.inFeatures,
            biasCodes: classifier.biasCodes.map { $0 + 2 }, inputStep: classifier.inputStep, outputStep: step)
        let off = zip(logits(e, nil, batch: Tiny.batch()), logits(e, IntegerLinears(byWeightOffset: table), batch: Tiny.batch()))
        XCTAssertGreaterThan(off.map { abs($0 - $1) }.max()!, 1.5 * step)
    }

    /// Layer by layer on the same input codes: each integer Linear against the float GEMM of the
    /// fake-quantized model (x̂ = code/s, the file's dequantized weights and bias) within one output step.
    func testEachIntegerLinearEqualsItsFakeQuantizedLinearWithinOneStep() throws {
        let e = try export()
        let linears = try QuantizedExport.integerLinears(e.url, model: e.model, quantization: e.q)
        let rows = 40
        for slot in e.model.layout.slots {
            guard let layer = linears.byWeightOffset[slot.offset] else { continue }
            let bias = e.model.layout.slot(String(slot.name.dropLast("weight".count)) + "bias")
            let codes = (0..<rows * layer.inFeatures).map { Int8(($0 * 37) % 255 - 127) }
            let s = 1 / Double(layer.inputStep)
            let x = codes.map { Float(Double($0) / s) }
            var float = [Float](repeating: 0, count: rows * layer.outFeatures), integer = float
            e.θ.withUnsafeBufferPointer { θ in
                Linear.forward(x: x, rows: rows, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures,
                               weight: θ.baseAddress! + slot.offset, bias: θ.baseAddress! + bias.offset, y: &float)
            }
            codes.withUnsafeBufferPointer { c in integer.withUnsafeMutableBufferPointer { layer.forward(c.baseAddress!, rows: rows, y: $0.baseAddress!) } }
            let worst = zip(float, integer).map { Double(abs($0 - $1)) }.max()! / Double(layer.outputStep)
            XCTAssertLessThanOrEqual(worst, 1, slot.name)
            XCTAssertGreaterThan(float.map { abs($0) }.max()!, 1000 * layer.outputStep, "\(slot.name): outputs span many steps")
        }
    }

    func testSameBitsOnEveryKernelAndThreadCount() throws {
        let e = try export()
        let batch = randomBatch()
        let want = logits(e, try QuantizedExport.integerLinears(e.url, model: e.model, quantization: e.q, kernel: .scalar), batch: batch)
        for kernel in Int8GEMM.Kernel.available {
            let linears = try QuantizedExport.integerLinears(e.url, model: e.model, quantization: e.q, kernel: kernel)
            for threads in [1, 2] {
                let saved = Parallel.workers
                Parallel.workers = threads
                defer { Parallel.workers = saved }
                XCTAssertEqual(logits(e, linears, batch: batch).map(\.bitPattern), want.map(\.bitPattern), "\(kernel.name), \(threads) threads")
            }
        }
    }

    /// A file whose bias scales do not match the ranges it carries, or int32 biases without a range,
    /// is refused with the tensor named.
    func testInconsistentExportsAreRefused() throws {
        let e = try export()
        var moved = e.q
        moved.ranges!.ranges["classifierInput.0"]!.biased *= 2
        XCTAssertThrowsError(try QuantizedExport.integerLinears(e.url, model: e.model, quantization: moved)) {
            XCTAssertTrue("\($0)".contains("classifier.bias.scale") && "\($0)".contains("input step × weight step"), "\($0)")
        }
        var none = e.q
        none.ranges = nil
        XCTAssertThrowsError(try QuantizedExport.integerLinears(e.url, model: e.model, quantization: none)) {
            XCTAssertTrue("\($0)".contains(".bias'") && "\($0)".contains("frozen 8-bit range"), "\($0)")
        }
    }

    /// The codes handed to the integer layers are the fake quantizer's: x̂ = code/s with s = 127/r.
    func testFrozenRangeCodesAreTheQuantizersRounding() throws {
        let e = try export()
        let linears = try QuantizedExport.integerLinears(e.url, model: e.model, quantization: e.q)
        var rng = SeededRandom(seed: 9)
        let x = Buffer<Float>((0..<200).map { _ in Float(3 * rng.normal()) })  // beyond the range: clipped
        let key = ActivationRangeState.key(.intermediateInput, 0)
        let r = try XCTUnwrap(e.q.ranges?.threshold(key))
        var plain = ActivationQuantization<Float>(config: e.q)
        let (want, wantMask) = plain.apply(.intermediateInput, x)
        plain = ActivationQuantization<Float>(config: e.q)
        plain.integerLinears = linears
        let (out, mask, lattice) = plain.applyToLinearInput(.intermediateInput, x)
        let codes = try XCTUnwrap(lattice, "a frozen 8-bit range under integer inference gives codes").codes
        XCTAssertEqual(out.array, want.array)
        XCTAssertEqual(mask?.mask.array, wantMask?.mask.array)
        let s = Float(127) / Float(r)
        XCTAssertEqual(codes.map { Float($0) / s }, want.array)
        XCTAssertTrue(codes.contains(127) && codes.contains(-127), "clipped entries sit on ±127")
        XCTAssertEqual(lattice?.step, Float(r / 127))
        // Without integer layers the site gives no codes (the fake-quantized model stays float).
        XCTAssertNil(ActivationQuantization<Float>(config: e.q).applyToLinearInput(.intermediateInput, x).2)
    }
}
