// The committed reference fixture (Fixtures/, made by notebooks-cli/peers/make-reference-fixture.py):
// a tiny BERT teacher and student, one padded batch with token types, a fixed direction v, and
// what PyTorch computed on them in float64 — loss and terms, every parameter tensor's gradient
// and H·v for each objective. Weights are stored as F32 numbers, so they are exact in Double.
// Everything is matched by HF parameter name, never by position, so a layout slip in tianalyze
// shows up as a wrong tensor rather than as a silently shifted one.
import Foundation
import TICore
import TIData
import TILinalg

struct ReferenceFixture {
    struct Slot: Decodable { let name: String; let shape: [Int]; let offset: Int }

    struct Objective: Decodable {
        let loss: Double
        /// Keys as the peer names them: task, logits, hidden, scores, attentionBlocks, total.
        let terms: [String: Double]
        let peer: String
    }

    struct Expected: Decodable {
        let layout: [Slot]
        let objectives: [String: Objective]
        let multiplyByStep: Bool
        /// Per quantized objective: how far the peer's default x̂ = round(x·s)/s moves loss and gradient.
        let stepFormulaEffect: [String: [String: Double]]
    }

    let model: BertModel
    let teacher: [Double]
    let student: [Double]
    let batch: Batch
    /// The direction of the H·v products, in tianalyze's layout.
    let v: [Double]
    let expected: Expected
    private let vectors: SafeTensorsFile

    static func directory() throws -> URL {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw DataError.io(file: "ReferenceTests/Fixtures", reason: "not in the test bundle (Package.swift copies it as a resource)")
        }
        return url
    }

    static func load() throws -> ReferenceFixture {
        let dir = try directory()
        func file(_ name: String) -> URL { dir.appendingPathComponent(name) }
        let config = try BertConfig(huggingFace: HFBertConfig.load(url: file("config.json")), file: file("config.json").path)
        let model = BertModel(config: config)
        let expectedURL = file("expected.json")
        let expected: Expected
        do {
            expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: expectedURL))
        } catch {
            throw DataError.malformed(file: expectedURL.path, reason: "not the reference fixture's expected.json: \(error)")
        }
        let vectors = try SafeTensorsFile.read(url: file("expected.safetensors"))
        let fixture = ReferenceFixture(
            model: model,
            teacher: try parameters(file("teacher.safetensors"), layout: model.layout),
            student: try parameters(file("student.safetensors"), layout: model.layout),
            batch: try batch(file("batch.safetensors")), v: [], expected: expected, vectors: vectors)
        try fixture.batch.validate(for: config)
        return fixture.with(v: try fixture.flat(fixture.named("v", in: vectors)))
    }

    /// A checkpoint's tensors, by name, into tianalyze's flat layout in Double.
    static func parameters(_ url: URL, layout: ParameterLayout) throws -> [Double] {
        let f = try SafeTensorsFile.read(url: url)
        guard Set(f.tensorNames) == Set(layout.names) else {
            throw DataError.mismatch(file: url.path, reason: "tensors \(Set(f.tensorNames).symmetricDifference(layout.names).sorted()) differ from the layout")
        }
        var θ = [Double](repeating: 0, count: layout.count)
        for s in layout.slots {
            guard f.info(s.name)?.shape == s.shape else {
                throw DataError.mismatch(file: url.path, reason: "tensor '\(s.name)' has shape \(f.info(s.name)?.shape ?? []), expected \(s.shape)")
            }
            θ.replaceSubrange(s.range, with: try f.values(s.name, as: Double.self))
        }
        return θ
    }

    static func batch(_ url: URL) throws -> Batch {
        let f = try SafeTensorsFile.read(url: url)
        guard let shape = f.info("input_ids")?.shape, shape.count == 2 else {
            throw DataError.mismatch(file: url.path, reason: "expected a 2-D tensor 'input_ids' [batch, seq]")
        }
        return Batch(size: shape[0], seqLen: shape[1], tokens: try f.intValues("input_ids"),
                     tokenTypes: try f.intValues("token_type_ids"), attentionMask: try f.intValues("attention_mask"),
                     labels: try f.intValues("labels"))
    }

    private func with(v: [Double]) -> ReferenceFixture {
        ReferenceFixture(model: model, teacher: teacher, student: student, batch: batch, v: v, expected: expected, vectors: vectors)
    }

    /// A flat vector of expected.safetensors cut into the fixture layout's tensors, by name.
    func named(_ key: String, in file: SafeTensorsFile? = nil) throws -> [String: [Double]] {
        let f = file ?? vectors
        let flat = try f.values(key, as: Double.self)
        let total = expected.layout.reduce(0) { $0 + $1.shape.reduce(1, *) }
        guard flat.count == total else {
            throw DataError.mismatch(file: f.name, reason: "'\(key)' has \(flat.count) values, the layout in expected.json has \(total)")
        }
        var out: [String: [Double]] = [:]
        for s in expected.layout { out[s.name] = Array(flat[s.offset..<(s.offset + s.shape.reduce(1, *))]) }
        return out
    }

    /// The expected gradient or H·v ("gradient", "hv") of one objective, by tensor name.
    func reference(_ objective: String, _ kind: String) throws -> [String: [Double]] {
        try named("\(objective).\(kind)")
    }

    /// Tensors by name into tianalyze's flat layout (every slot must be present with its size).
    func flat(_ named: [String: [Double]]) throws -> [Double] {
        var out = [Double](repeating: 0, count: model.layout.count)
        for s in model.layout.slots {
            guard let t = named[s.name], t.count == s.count else {
                throw DataError.mismatch(file: "expected.json", reason: "layout has no tensor '\(s.name)' of \(s.count) values")
            }
            out.replaceSubrange(s.range, with: t)
        }
        return out
    }
}
