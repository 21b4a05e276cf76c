// Q8BERT's int8 export run in integer arithmetic (IntegerLinears: int8 × int8 products summed in
// int32 with the int32 bias, dequantized once) next to the same file evaluated as a fake-quantized
// float model (codes·scales as float weights, float GEMMs): dev metric, loss, and how far apart
// their logits land.
import Foundation
import TILinalg
import TIData
import TICore

public struct IntegerArithmeticEvaluation: Sendable, Encodable {
    /// Dev metric and task loss of the integer-arithmetic model.
    public var evaluation: EvaluationResult
    /// Its logits, [examples, labels] in dev order.
    public var logits: [Float]
    /// Linear layers run in integer arithmetic, of all the model's Linears.
    public var integerLayers: Int
    public var linearLayers: Int
    /// How their int32 sums were computed (IntegerLinear.Route), each distinct route once.
    public var routes: [String]
    /// The unit of `maxLogitDifferenceInSteps`: the classifier's output step step_x·step_w (nil when the
    /// classifier is not an integer layer). Integer-arithmetic logits are (Σ x·w + b)·step_x·step_w, so
    /// they live on this grid: it is the resolution of the logits, the smallest change the integer
    /// model can make to one. Under one step, both models computed the same classifier sums up to float
    /// rounding; more means some activation code rounded the other way (a float ulp of the
    /// fake-quantized GEMM tipping a value across a rounding boundary) and moved the logits by
    /// |w|·step_x·step_w or more from there on.
    public var logitStep: Double?
    /// max |integer logit − fake-quantized logit| over the evaluated examples.
    public var maxLogitDifference: Double
    public var maxLogitDifferenceInSteps: Double?
    /// Examples whose arg-max label differs between the two (classification; 0 for regression).
    public var changedPredictions: Int
    /// Examples whose every logit is within one `logitStep` of the fake-quantized one: no rounding
    /// flip reached their logits (nil without a step). A flip anywhere in an example's sequence
    /// spreads through LayerNorm and attention and flips more codes downstream, so the maximum
    /// over a large dev set measures such cascades, and this count how rare they are.
    public var examplesWithinOneStep: Int?

    /// `eval --json` records everything but the logits.
    enum CodingKeys: String, CodingKey {
        case evaluation, integerLayers, linearLayers, routes, logitStep, maxLogitDifference, maxLogitDifferenceInSteps, changedPredictions
        case examplesWithinOneStep
    }
}

extension IntegerArithmeticEvaluation {
    /// Evaluates the model in integer arithmetic and compares it with `fakeLogits`, the same examples'
    /// logits of the fake-quantized model.
    public static func run(model: BertModel, effective θ: [Float], quantization q: QuantConfig, linears: IntegerLinears,
                           examples: [Example], task: TaskData, fakeLogits: [Float]) -> IntegerArithmeticEvaluation {
        var evaluator = Evaluator<Float>(model: model, task: task)
        evaluator.integerLinears = linears
        let (evaluation, logits) = evaluator.evaluateWithLogits(θ, quantization: q, examples: examples)
        let maxDiff = zip(logits, fakeLogits).map { Double(abs($0 - $1)) }.max() ?? 0
        let step = linears.byWeightOffset[model.offsets.classifier.weight].map { Double($0.outputStep) }
        let linearCount = model.layout.slots.filter { $0.role == .matrix }.count
        return IntegerArithmeticEvaluation(
            evaluation: evaluation, logits: logits, integerLayers: linears.byWeightOffset.count, linearLayers: linearCount,
            routes: Array(Set(linears.byWeightOffset.values.map { $0.route.description })).sorted(),
            logitStep: step, maxLogitDifference: maxDiff, maxLogitDifferenceInSteps: step.map { maxDiff / $0 },
            changedPredictions: task.isRegression ? 0 : changedArgMax(logits, fakeLogits, labels: model.config.numLabels),
            examplesWithinOneStep: step.map { within(logits, fakeLogits, labels: model.config.numLabels, step: $0) })
    }

    static func within(_ a: [Float], _ b: [Float], labels c: Int, step: Double) -> Int {
        stride(from: 0, to: min(a.count, b.count), by: c).filter { i in
            (i..<i + c).allSatisfy { Double(abs(a[$0] - b[$0])) <= step }
        }.count
    }

    static func changedArgMax(_ a: [Float], _ b: [Float], labels c: Int) -> Int {
        func argMax(_ x: ArraySlice<Float>) -> Int {
            var best = x.startIndex
            for j in x.indices where x[j] > x[best] { best = j }
            return best - x.startIndex
        }
        return stride(from: 0, to: min(a.count, b.count), by: c).filter { argMax(a[$0..<$0 + c]) != argMax(b[$0..<$0 + c]) }.count
    }
}
