// The reference fixture must exercise what the comparison claims to check: padding and both token
// types in the batch, clipped weights, a student away from its teacher, and every KD term non-zero.
// Otherwise a regression in one of those paths could pass the reference tests unnoticed.
import XCTest
import Foundation
import TICore
import TILinalg

final class ReferenceFixtureTests: XCTestCase {
    func testFixtureExercisesEveryPathItChecks() throws {
        let f = try ReferenceObjectiveTests.fixture.get()
        XCTAssertTrue(f.batch.attentionMask.contains(0), "the batch needs padding (the masked-key paths)")
        XCTAssertEqual(Set(f.batch.tokenTypes), [0, 1], "the batch needs both token types")
        XCTAssertGreaterThan(Distance.norm(f.student, f.teacher), 0.01, "the student must differ from the teacher")

        // Weights past ±2.5 get a zero STE mask; there must be some at the quantized sites.
        let q = QuantizedParameters<Double>(latent: f.student, layout: f.model.layout, config: .ternaryW8A8)
        let clipped = try XCTUnwrap(q.mask).filter { $0 == 0 }.count
        XCTAssertGreaterThan(clipped, 10, "too few clipped weights to test the weight STE mask")

        for name in ["KD", "MI", "CI", "OI"] {
            let terms = try XCTUnwrap(f.expected.objectives[name]).terms
            for key in ["logits", "hidden", "scores", "attentionBlocks"] {
                XCTAssertGreaterThan(terms[key] ?? 0, 0.1, "\(name): the \(key) term must be non-trivial")
            }
        }
    }

    /// The fixture is committed: it stays small (the generator's configuration is sized for this).
    func testFixtureStaysSmall() throws {
        let dir = try ReferenceFixture.directory()
        // Subfolders are other fixtures (lattice/, LatticeReferenceTests), sized on their own.
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.fileSizeKey, .isDirectoryKey])
            .filter { try $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory != true }
        let bytes = try files.reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        XCTAssertLessThan(bytes, 300_000)
        XCTAssertEqual(files.count, 6, "config, teacher, student, batch, expected.safetensors and expected.json")
    }
}
