// tianalyze against the PyTorch peer on a batch where O's 8-bit input quantizer meets exact rounding
// ties in P̂·V̂ (Fixtures/lattice, notebooks-cli/peers/make-lattice-fixture.py). The peer stores two
// answers: with the exact rule (integer P̂·V̂, ties half to even of the exact rational) and with its
// float GEMM. tianalyze implements the exact rule, so it must match the first to rounding on every
// objective, while the second differs by what the flipped ties (counted in the fixture) move.
import Foundation
import XCTest
import TICore
import TIData
import TILinalg

final class LatticeReferenceTests: XCTestCase {
    struct Entry: Decodable {
        let exact: [String: Double]
        let floatGEMM: [String: Double]
        let ties: Int
        let flips: Int
        let floatGEMMEffect: [String: Double]
    }

    struct Expected: Decodable {
        let layout: [ReferenceFixture.Slot]
        let objectives: [String: Entry]
    }

    struct Fixture {
        let model: BertModel, teacher: [Double], student: [Double], batch: Batch, expected: Expected, vectors: SafeTensorsFile

        static func load() throws -> Fixture {
            let dir = try ReferenceFixture.directory().appendingPathComponent("lattice")
            func file(_ name: String) -> URL { dir.appendingPathComponent(name) }
            let config = try BertConfig(huggingFace: HFBertConfig.load(url: file("config.json")), file: file("config.json").path)
            let model = BertModel(config: config)
            return Fixture(model: model, teacher: try ReferenceFixture.parameters(file("teacher.safetensors"), layout: model.layout),
                           student: try ReferenceFixture.parameters(file("student.safetensors"), layout: model.layout),
                           batch: try ReferenceFixture.batch(file("batch.safetensors")),
                           expected: try JSONDecoder().decode(Expected.self, from: Data(contentsOf: file("expected.json"))),
                           vectors: try SafeTensorsFile.read(url: file("expected.safetensors")))
        }

        /// A stored flat vector cut by the fixture's layout, by tensor name.
        func named(_ key: String) throws -> [String: [Double]] {
            let flat = try vectors.values(key, as: Double.self)
            var out: [String: [Double]] = [:]
            for s in expected.layout { out[s.name] = Array(flat[s.offset..<(s.offset + s.shape.reduce(1, *))]) }
            return out
        }

        func evaluate(_ spec: ObjectiveSpec) -> (terms: LossTerms, gradient: [Double]) {
            let objective = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: [batch],
                                                     teacher: spec.needsTeacher ? teacher : nil)
            let value = objective.evaluate(student, gradient: true)
            return (value.terms, value.gradient!)
        }
    }

    static let fixture = Result { try Fixture.load() }

    static func term(_ t: LossTerms, _ key: String) -> Double? {
        ["total": t.total, "task": t.task, "logits": t.logits, "hidden": t.hidden, "scores": t.scores,
         "attentionBlocks": t.attentionBlocks][key]
    }

    /// Worst relative distance of the terms and worst per-tensor gradient distance from one stored answer.
    static func distance(_ m: (terms: LossTerms, gradient: [Double]), terms: [String: Double], gradient: [String: [Double]],
                         layout: ParameterLayout) -> (terms: Double, gradient: Double) {
        let t = terms.map { Distance.relative(term(m.terms, $0.key) ?? .nan, $0.value) }.max() ?? 0
        let g = Distance.perTensor(m.gradient, gradient, layout: layout).map(\.error).max() ?? 0
        return (t, g)
    }

    func assertExactRule(_ name: String, spec: ObjectiveSpec, file: StaticString = #filePath, line: UInt = #line) throws {
        let f = try Self.fixture.get()
        let entry = try XCTUnwrap(f.expected.objectives[name], "no objective \(name) in lattice/expected.json")
        XCTAssertGreaterThan(entry.flips, 0, "\(name): the fixture must hold a tie the peer's float GEMM resolves otherwise")
        let ours = f.evaluate(spec)
        let exact = Self.distance(ours, terms: entry.exact, gradient: try f.named("\(name).gradient"), layout: f.model.layout)
        let float = Self.distance(ours, terms: entry.floatGEMM, gradient: try f.named("\(name).floatGradient"), layout: f.model.layout)
        // The exact rule on both sides: the same codes everywhere, so only summation order is left.
        XCTAssertLessThan(exact.terms, 1e-12, "\(name): terms vs the peer's exact rule", file: file, line: line)
        XCTAssertLessThan(exact.gradient, 1e-10, "\(name): gradient vs the peer's exact rule", file: file, line: line)
        // Against the peer's float GEMM the flipped ties show: the gradient moves by ≥ 1e-6 (measured 3.5e-5 to 2.7e-3).
        XCTAssertGreaterThan(float.gradient, 1e-6, "\(name): the float GEMM's flipped ties should move the gradient", file: file, line: line)
        // tianalyze's own float route (the exact rule off) decides the ties by its GEMM's last bit instead.
        ExactLattice.enabled = false
        let before = f.evaluate(spec)
        ExactLattice.enabled = true
        let old = Self.distance(before, terms: entry.exact, gradient: try f.named("\(name).gradient"), layout: f.model.layout)
        print("lattice \(name): ties \(entry.ties), flipped by the peer's float GEMM \(entry.flips); exact rule vs peer exact: "
              + "terms \(exact.terms), gradient \(exact.gradient); vs peer float GEMM: terms \(float.terms), gradient \(float.gradient); "
              + "float route (exact rule off) vs peer exact: terms \(old.terms), gradient \(old.gradient)")
    }

    func testLatticeFixtureStaysSmall() throws {
        let dir = try ReferenceFixture.directory().appendingPathComponent("lattice")
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.fileSizeKey])
        let bytes = try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        XCTAssertLessThan(bytes, 150_000)
    }

    func testTernaryTaskLossFollowsTheExactRule() throws {
        try assertExactRule("ternary", spec: QATMode.qat.method.objective(intervention: nil, quantization: QATMode.qat.method.defaultQuantization))
    }

    func testKDFollowsTheExactRule() throws {
        try assertExactRule("KD", spec: QATMode.kd.method.objective(intervention: nil, quantization: QATMode.kd.method.defaultQuantization))
    }

    func testMIFollowsTheExactRule() throws {
        try assertExactRule("MI", spec: QATMode.mi.method.objective(intervention: .map, quantization: QATMode.mi.method.defaultQuantization))
    }
}
