// PCA of a saved path: a synthetic path in a known plane, written through the float16 trajectory
// format, gives back that plane's two directions (up to sign), and the projected path passes
// through its saved points.
import Foundation
import TIData
import TILandscape
import TILinalg
import XCTest

final class TrajectoryPCATests: XCTestCase {
    /// Two orthonormal vectors of length n (Gram–Schmidt on seeded Gaussians).
    func orthonormalPair(_ n: Int) -> ([Double], [Double]) {
        var rng = SeededRandom(seed: 11)
        var e1: [Double] = rng.normalVector(n), e2: [Double] = rng.normalVector(n)
        BLAS.scale(&e1, by: 1 / BLAS.norm(e1))
        BLAS.axpy(-BLAS.dot(e1, e2), e1, &e2)
        BLAS.scale(&e2, by: 1 / BLAS.norm(e2))
        return (e1, e2)
    }

    func testPathAlongTwoKnownDirectionsRecoversThemAndItsPoints() throws {
        let n = 400, m = 12
        let (e1, e2) = orthonormalPair(n)
        var rng = SeededRandom(seed: 3)
        let start: [Float] = rng.normalVector(n)
        // A curved path: far along e1, a bend along e2 (variance 3:1 or more).
        let along: [Double] = (0..<m).map { Double($0) * 0.05 }
        let across: [Double] = (0..<m).map { 0.02 * sin(Double($0) * 0.6) }
        let truth: [[Float]] = (0..<m).map { i -> [Float] in
            (0..<n).map { j -> Float in
                let v: Double = Double(start[j]) + along[i] * e1[j] + across[i] * e2[j]
                return Float(v)
            }
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tia-pca-\(UUID().uuidString).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        var bytes = TrajectoryFile.header(origin: truth[0], every: 5)
        for i in 1..<m { bytes += TrajectoryFile.entry(step: 5 * i, parameters: truth[i], origin: truth[0]) }
        try Data(bytes).write(to: url)

        let saved = try TrajectoryFile.read(url)
        XCTAssertEqual(saved.steps, (1..<m).map { 5 * $0 })
        let steps = [0] + saved.steps
        let plane = try TrajectoryPCA.plane(of: saved)
        let v1 = plane.directions[0].map(Double.init), v2 = plane.directions[1].map(Double.init)
        XCTAssertEqual(abs(BLAS.dot(v1, e1)), 1, accuracy: 1e-3, "first direction is e1 up to sign")
        XCTAssertEqual(abs(BLAS.dot(v2, e2)), 1, accuracy: 1e-3, "second direction is e2 up to sign")
        XCTAssertEqual(BLAS.dot(v1, v2), 0, accuracy: 1e-5)
        XCTAssertEqual(plane.explainedVariance[0] + plane.explainedVariance[1], 1, accuracy: 1e-5, "the path lies in the plane")
        XCTAssertGreaterThan(plane.explainedVariance[0], plane.explainedVariance[1])
        // The projected path through its saved points: centre + x·v1 + y·v2 reproduces each point to
        // float16 precision of its offset (deltas ≤ 0.55, half spacing there 2^-11 · 0.5).
        for (i, c) in plane.coordinates.enumerated() {
            XCTAssertEqual(c.step, steps[i])
            var worst = 0.0
            for j in 0..<n {
                let rebuilt: Double = Double(plane.centre[j]) + c.x * v1[j] + c.y * v2[j]
                worst = max(worst, abs(rebuilt - Double(truth[i][j])))
            }
            XCTAssertLessThan(worst, 1e-3, "point \(i)")
        }
        // The coordinates are the known ones up to sign: along e1 relative to the last point.
        XCTAssertEqual(abs(plane.coordinates[0].x), along[m - 1], accuracy: 1e-3)
    }

    /// The plane does not depend on how many parameters each pass reads: stretches of 7 (which
    /// split the vector unevenly) against one pass, and the float16 file against its decoded points.
    func testStretchesAndDecodedPointsGiveTheSamePlane() throws {
        let n = 101, m = 6
        var rng = SeededRandom(seed: 5)
        let truth: [[Float]] = (0..<m).map { _ in rng.normalVector(n) }
        let origin = truth[0]
        var bytes = TrajectoryFile.header(origin: origin, every: 1)
        for i in 1..<m { bytes += TrajectoryFile.entry(step: i, parameters: truth[i], origin: origin) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tia-pca-\(UUID().uuidString).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try Data(bytes).write(to: url)
        let saved = try TrajectoryFile.read(url)
        let decoded = [saved.origin] + saved.steps.indices.map(saved.point)
        let a = try TrajectoryPCA.plane(path: saved, steps: Array(0..<m), stretch: 7)
        let b = try TrajectoryPCA.plane(points: decoded, steps: Array(0..<m))
        XCTAssertEqual(a.centre, b.centre)
        for k in 0..<2 {
            XCTAssertEqual(a.variances[k], b.variances[k], accuracy: 1e-12 * b.variances[0])
            let sign: Float = BLAS.dot(a.directions[k], b.directions[k]) < 0 ? -1 : 1
            for j in 0..<n { XCTAssertEqual(a.directions[k][j], sign * b.directions[k][j], accuracy: 1e-5) }
        }
        for (p, q) in zip(a.coordinates, b.coordinates) {
            XCTAssertEqual(abs(p.x), abs(q.x), accuracy: 1e-9)
            XCTAssertEqual(abs(p.y), abs(q.y), accuracy: 1e-9)
        }
    }

    func testStraightPathHasNoPlane() {
        let points: [[Float]] = (0..<4).map { i in [Float(i), Float(2 * i), 0] }
        XCTAssertThrowsError(try TrajectoryPCA.plane(points: points, steps: [0, 1, 2, 3]))
    }

    func testDamagedTrajectoryIsRefusedAndATornTailIgnored() throws {
        let origin: [Float] = [1, 2, 3]
        var bytes = TrajectoryFile.header(origin: origin, every: 1)
        bytes += TrajectoryFile.entry(step: 1, parameters: [1.5, 2, 3], origin: origin)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tia-traj-\(UUID().uuidString).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try Data(bytes + [1, 2, 3]).write(to: url)
        let t = try TrajectoryFile.read(url)
        XCTAssertEqual(t.steps, [1])
        XCTAssertEqual(t.tornBytes, 3)
        XCTAssertEqual(t.point(0), [1.5, 2, 3])
        var flipped = bytes
        flipped[flipped.count - 6] ^= 0x40
        try Data(flipped).write(to: url)
        XCTAssertThrowsError(try TrajectoryFile.read(url)) { XCTAssertTrue("\($0)".contains("checksum"), "\($0)") }
        try Data(Array("not a trajectory".utf8)).write(to: url)
        XCTAssertThrowsError(try TrajectoryFile.read(url)) { XCTAssertTrue("\($0)".contains("TITRAJ01"), "\($0)") }
    }
}
