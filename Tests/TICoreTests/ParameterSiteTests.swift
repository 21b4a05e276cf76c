// Sites are data: every slot of a BERT layout carries the weight site the (removed) substring matcher
// over HuggingFace names gave it, written out here by hand for a 2-layer model; LSQ's step slots point
// at the tensors they scale; and the tags leave the layout fingerprint (run and config hashes) alone.
import XCTest
import TICore
import TILinalg

final class ParameterSiteTests: XCTestCase {
    /// (name, shape, role, site) of BERT with 2 layers, hidden 8, FFN 12, vocabulary 11, 8 positions,
    /// 2 token types and 3 labels, in layout order. Sites as the old matcher assigned them: ".weight"
    /// tensors outside LayerNorm by module, everything else none.
    static let expected: [(String, [Int], ParameterRole, WeightSite?)] = {
        var t: [(String, [Int], ParameterRole, WeightSite?)] = [
            ("bert.embeddings.word_embeddings.weight", [11, 8], .embedding, .wordEmbeddings),
            ("bert.embeddings.position_embeddings.weight", [8, 8], .embedding, .positionEmbeddings),
            ("bert.embeddings.token_type_embeddings.weight", [2, 8], .embedding, .tokenTypeEmbeddings),
            ("bert.embeddings.LayerNorm.weight", [8], .layerNormGain, nil),
            ("bert.embeddings.LayerNorm.bias", [8], .layerNormBias, nil),
        ]
        for l in 0..<2 {
            let p = "bert.encoder.layer.\(l)."
            t += [
                (p + "attention.self.query.weight", [8, 8], .matrix, .query),
                (p + "attention.self.query.bias", [8], .bias, nil),
                (p + "attention.self.key.weight", [8, 8], .matrix, .key),
                (p + "attention.self.key.bias", [8], .bias, nil),
                (p + "attention.self.value.weight", [8, 8], .matrix, .value),
                (p + "attention.self.value.bias", [8], .bias, nil),
                (p + "attention.output.dense.weight", [8, 8], .matrix, .attentionOutput),
                (p + "attention.output.dense.bias", [8], .bias, nil),
                (p + "attention.output.LayerNorm.weight", [8], .layerNormGain, nil),
                (p + "attention.output.LayerNorm.bias", [8], .layerNormBias, nil),
                (p + "intermediate.dense.weight", [12, 8], .matrix, .intermediate),
                (p + "intermediate.dense.bias", [12], .bias, nil),
                (p + "output.dense.weight", [8, 12], .matrix, .output),
                (p + "output.dense.bias", [8], .bias, nil),
                (p + "output.LayerNorm.weight", [8], .layerNormGain, nil),
                (p + "output.LayerNorm.bias", [8], .layerNormBias, nil),
            ]
        }
        t += [
            ("bert.pooler.dense.weight", [8, 8], .matrix, .pooler),
            ("bert.pooler.dense.bias", [8], .bias, nil),
            ("classifier.weight", [3, 8], .matrix, .classifier),
            ("classifier.bias", [3], .bias, nil),
        ]
        return t
    }()

    func testEveryBertSlotHasTheSiteOfItsName() {
        let layout = Tiny.config().parameterLayout
        XCTAssertEqual(layout.slots.count, Self.expected.count)
        for (slot, e) in zip(layout.slots, Self.expected) {
            XCTAssertEqual(slot.name, e.0)
            XCTAssertEqual(slot.shape, e.1, e.0)
            XCTAssertEqual(slot.role, e.2, e.0)
            XCTAssertEqual(slot.weightSite, e.3, e.0)
            XCTAssertNil(slot.scales, e.0)
        }
        // Every site occurs: once per layer for the encoder's, once for the others.
        let counts = Dictionary(grouping: layout.slots.compactMap(\.weightSite), by: { $0 }).mapValues(\.count)
        for site in WeightSite.allCases {
            let perLayer: Set<WeightSite> = [.query, .key, .value, .attentionOutput, .intermediate, .output]
            XCTAssertEqual(counts[site], perLayer.contains(site) ? 2 : 1, site.rawValue)
        }
    }

    func testSiteTagsLeaveTheFingerprintAlone() {
        // The same names, shapes and roles without sites hash alike, so run and config hashes made
        // before slots carried sites still match.
        let untagged = ParameterLayout(Self.expected.map { ($0.0, $0.1, $0.2) })
        let layout = Tiny.config().parameterLayout
        XCTAssertEqual(untagged.fingerprint, layout.fingerprint)
        XCTAssertTrue(untagged.slots.allSatisfy { $0.site == nil })
        XCTAssertNotEqual(untagged, layout)  // the tags are part of the layout's value all the same
    }

    func testLSQStepsPointAtTheTensorsTheyScale() {
        let config = Tiny.config()
        let model = LSQ.model(config: config, quantization: .lsqW4A8)
        let bert = config.parameterLayout
        let steps = model.layout.slots.dropFirst(bert.slots.count)
        let weightSteps = steps.filter { if case .slot = $0.scales { return true }; return false }
        // lsqW4A8 quantizes every weight site: one step per tagged weight, in the weights' order.
        let tagged = bert.slots.filter { $0.weightSite != nil }
        XCTAssertEqual(weightSteps.count, tagged.count)
        for (step, weight) in zip(weightSteps, tagged) {
            XCTAssertEqual(step.scales, .slot(weight.name))
            XCTAssertEqual(step.name, "lsq." + weight.name + ".step")
            XCTAssertEqual(step.role, .scale)
            XCTAssertNil(step.weightSite, step.name)
            XCTAssertEqual(model.layout.scale(of: .slot(weight.name)), step)
        }
        // Activation steps name the site visit they scale: "lsq.act.<key>.step" ↔ .activation(key).
        let activationSteps = steps.filter { if case .activation = $0.scales { return true }; return false }
        // Zero points of the asymmetric activation sites (all of lsqW4A8's), after every step:
        // "lsq.act.<key>.zero_point" ↔ .activationZeroPoint(key).
        let zeroPoints = steps.filter { if case .activationZeroPoint = $0.scales { return true }; return false }
        XCTAssertEqual(weightSteps.count + activationSteps.count + zeroPoints.count, steps.count)
        XCTAssertEqual(zeroPoints.count, activationSteps.count)
        XCTAssertEqual(Array(steps.suffix(zeroPoints.count)), zeroPoints)
        XCTAssertFalse(activationSteps.isEmpty)
        for step in activationSteps {
            guard case .activation(let key)? = step.scales else { continue }
            XCTAssertEqual(step.name, "lsq.act." + key + ".step")
            XCTAssertEqual(model.layout.scale(of: .activation(key)), step)
            XCTAssertEqual(model.layout.scale(of: .activationZeroPoint(key))?.name, "lsq.act." + key + ".zero_point")
        }
        XCTAssertNotNil(model.layout.scale(of: .activation("ffnResidual.1")))
        XCTAssertNil(model.layout.scale(of: .activation("ffnResidual.2")))  // 2 layers: visits 0 and 1
        // Biases and LayerNorms have no step.
        XCTAssertNil(model.layout.scale(of: .slot("classifier.bias")))
        XCTAssertNil(model.layout.scale(of: .slot("bert.embeddings.LayerNorm.weight")))
    }

    func testOnlyLSQSitesGetSteps() {
        // A config that learns steps only for Q and the classifier: the others stay stepless.
        let q = QuantConfig(name: "lsq-some", weights: [.query: .lsq(bits: 4), .classifier: .lsq(bits: 2),
                                                        .key: .uniform(bits: 8, symmetric: true, perRow: false)])
        let model = LSQ.model(config: Tiny.config(), quantization: q)
        let scaled = model.layout.slots.compactMap { s -> String? in
            if case .slot(let name)? = s.scales { return name }
            return nil
        }
        XCTAssertEqual(scaled, ["bert.encoder.layer.0.attention.self.query.weight",
                                "bert.encoder.layer.1.attention.self.query.weight", "classifier.weight"])
    }
}
