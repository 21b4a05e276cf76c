// Counterfactual intervention in chosen layers: layers outside the subset compute the un-intervened
// forward bit for bit, every layer equals today's mode bit for bit, and the layer lists parse or are
// refused with the option named.
import XCTest
import TICore
import TILinalg
import TIData

final class InterventionLayerTests: XCTestCase {
    let model = BertModel(config: Tiny.config(layers: 3))
    let batch = Tiny.batch()

    func evaluate(_ point: InterventionPoint?, layers: [Int]?) -> ObjectiveResult<Double> {
        let teacherθ = Tiny.parameters(model, seed: 21)
        var spec = ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: point)
        spec.interventionLayers = layers
        let obj = BertObjective<Double>(model: model, spec: spec)
        let θ = Vec.adding(teacherθ, Tiny.direction(teacherθ.count, seed: 2), scaledBy: 1)
        return obj.evaluate(θ, batch: batch, teacher: obj.teacherTrace(teacher: teacherθ, batch: batch), gradient: true)
    }

    func testLayersOutsideTheSubsetRunThePlainForward() {
        for point in InterventionPoint.allCases {
            let plain = evaluate(nil, layers: nil), late = evaluate(point, layers: [2]), early = evaluate(point, layers: [0])
            for l in 0..<2 {  // before the intervened layer: the very same computation
                XCTAssertEqual(late.trace.layers[l].attention.blockOutput.array, plain.trace.layers[l].attention.blockOutput.array)
                XCTAssertEqual(late.trace.layers[l].feedForward.output.array, plain.trace.layers[l].feedForward.output.array)
                XCTAssertNil(late.trace.layers[l].attention.intervention)
            }
            XCTAssertEqual(late.trace.layers[2].attention.intervention, point)
            XCTAssertNotEqual(late.trace.layers[2].feedForward.output.array, plain.trace.layers[2].feedForward.output.array)
            for l in 1..<3 {  // after it: the student's own tensors on its (changed) input
                let a = early.trace.layers[l].attention
                XCTAssertNil(a.intervention)
                XCTAssertEqual(a.probsUsed.array, a.probs.array)
                XCTAssertEqual(a.contextUsed.array, a.context.array)
            }
        }
    }

    func testEveryLayerIsTodaysModeBitwise() {
        for point in InterventionPoint.allCases {
            let today = evaluate(point, layers: nil), all = evaluate(point, layers: [0, 1, 2])
            XCTAssertEqual(all.terms, today.terms)
            XCTAssertEqual(all.gradient, today.gradient)
            XCTAssertEqual(all.logits, today.logits)
        }
    }

    func testLayerListsParseOrAreRefused() throws {
        XCTAssertEqual(try InterventionLayers.parse("0,3", layerCount: 4), [0, 3])
        XCTAssertEqual(try InterventionLayers.parse("0-2,5,1", layerCount: 6), [0, 1, 2, 5])
        for bad in ["4", "0,4", "-1", "2-1", "1-", "a", "", "0,,1", "1-2-3"] {
            XCTAssertThrowsError(try InterventionLayers.parse(bad, layerCount: 4), bad) { e in
                XCTAssertEqual((e as? OptionValueError)?.option, .interventionLayers)
            }
        }
        var kd = QATConfig(mode: .kd)
        kd.interventionLayers = [0]
        XCTAssertThrowsError(try InterventionLayers.check(kd, layerCount: 4))
    }
}
