// Roughness metrics against surfaces whose answers are known in closed form: a quadratic bowl,
// the bowl plus a sinusoid (second differences of sin are sin times 2(cos kh − 1), and sin is
// orthogonal to every quadratic term on a symmetric grid), a pure sinusoid, and a constant.
import Foundation
import TILandscape
import XCTest

final class RoughnessTests: XCTestCase {
    let c0 = 0.7, a = 1.3, b = 0.1, k = 9.0

    func sample(_ grid: LandscapeGrid, _ f: (Double, Double) -> Double) -> [Double] {
        (0..<grid.pointCount).map { p in let c = grid.coordinates(of: p); return f(c.x, c.y ?? 0) }
    }

    func testQuadraticBowlHasItsKnownLaplacianOneMinimumAndNoResidual() throws {
        let grid = try LandscapeGrid.parse("21")  // [-1, 1]², spacing 0.1
        let m = Roughness.measure(sample(grid) { x, y in self.c0 + self.a * (x * x + y * y) }, on: grid)
        // f_uu = width² · 2a per axis (width 2), over the range 2a: (8a + 8a) / 2a.
        XCTAssertEqual(m.laplacian, 8, accuracy: 1e-9)
        // Each grid line falls by a·(1 − 0) and rises again: 2a per axis, over the range 2a.
        XCTAssertEqual(m.totalVariation, 2, accuracy: 1e-12)
        XCTAssertEqual(m.localMinima, 1)
        // Radius 0.5 (a quarter of the width 2): the rise a·0.25 over the centre loss c0.
        XCTAssertEqual(m.sharpness, a * 0.25 / c0, accuracy: 1e-12)
        XCTAssertEqual(m.residualShare, 0, accuracy: 1e-12)
    }

    func testBowlPlusSinusoidGrowsByTheAnalyticAmount() throws {
        let grid = try LandscapeGrid.parse("41")  // spacing h = 0.05
        let f = sample(grid) { x, y in self.c0 + self.a * (x * x + y * y) + self.b * sin(self.k * x) }
        let bowl = Roughness.measure(sample(grid) { x, y in self.c0 + self.a * (x * x + y * y) }, on: grid)
        let m = Roughness.measure(f, on: grid)
        let xs = grid.x.coordinates, h = 0.05, n = xs.count
        let range = f.max()! - f.min()!
        // Exact discrete Laplacian in unit-width coordinates: (n−1)²·h² = width² = 4 per axis.
        let sinFactor = 2 * (cos(k * h) - 1) / (h * h)
        var lap = 0.0
        for i in 1..<(n - 1) { lap += abs(4 * (2 * a + 2 * a) + 4 * b * sinFactor * sin(k * xs[i])) }
        let expectedLaplacian = lap / Double(n - 2) / range  // every interior row is alike
        XCTAssertEqual(m.laplacian, expectedLaplacian, accuracy: 1e-9 * expectedLaplacian)
        // The sinusoid's second differences outweigh the bowl's 16a, so the mean |Δf| grows (before normalising).
        XCTAssertGreaterThan(m.laplacian * range, 1.05 * 16 * a, "the sinusoid adds curvature")
        // Residual: the sinusoid minus its projection on x (the only quadratic term it is not orthogonal to).
        let sx = xs.map { sin(k * $0) }
        let beta = zip(xs, sx).reduce(0) { $0 + $1.0 * $1.1 } / xs.reduce(0) { $0 + $1 * $1 }
        let residual = Double(n) * b * b * zip(xs, sx).reduce(0) { $0 + ($1.1 - beta * $1.0) * ($1.1 - beta * $1.0) }
        let mean = f.reduce(0, +) / Double(f.count)
        let total = f.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        XCTAssertEqual(m.residualShare, residual / total, accuracy: 1e-9)
        XCTAssertGreaterThan(m.residualShare, 1e-4)
        // Sharpness by its definition on the analytic function at the grid points within 0.5.
        var rise = 0.0
        for x in xs { for y in xs where x * x + y * y <= 0.25 + 1e-12 {
            rise = max(rise, a * (x * x + y * y) + b * sin(k * x))
        } }
        XCTAssertEqual(m.sharpness, rise / c0, accuracy: 1e-12)
        // Every row varies by Σ|Δ(ax² + b·sin kx)|, every column by 2a (down and up its parabola).
        let g = xs.map { a * $0 * $0 + b * sin(k * $0) }
        let rowVariation = (1..<n).reduce(0.0) { $0 + abs(g[$1] - g[$1 - 1]) }
        XCTAssertEqual(m.totalVariation, (rowVariation + 2 * a) / range, accuracy: 1e-12)
        XCTAssertGreaterThan(rowVariation, 2 * a, "the sinusoid adds variation along x")
    }

    func testPureSinusoidCountsItsSwingsAndMinima() throws {
        // sin(2πx) on [-1, 1] with extrema on the grid: 0 → 1 → −1 → 1 → −1 → 0 is 8 amplitudes, range 2.
        let line = try LandscapeGrid.parse("41", oneDimensional: true)
        let m1 = Roughness.measure(sample(line) { x, _ in sin(2 * .pi * x) }, on: line)
        XCTAssertEqual(m1.totalVariation, 4, accuracy: 1e-12)
        XCTAssertEqual(m1.localMinima, 2, "minima at x = −0.25 and 0.75")
        // Stripes in 2-D: constant along y, so no point is strictly below all 8 neighbours.
        let plane = try LandscapeGrid.parse("41")
        let m2 = Roughness.measure(sample(plane) { x, _ in sin(2 * .pi * x) }, on: plane)
        XCTAssertEqual(m2.totalVariation, 4, accuracy: 1e-12)
        XCTAssertEqual(m2.localMinima, 0)
    }

    func testDivergedPointMakesTheMetricsNaN() throws {
        let line = try LandscapeGrid.parse("5", oneDimensional: true)
        let m = Roughness.measure([1, 0, .nan, 0, 1], on: line)
        XCTAssertTrue(m.laplacian.isNaN && m.totalVariation.isNaN && m.sharpness.isNaN && m.residualShare.isNaN)
        XCTAssertEqual(m.localMinima, 2, "the finite neighbours of the NaN still make minima")
    }

    func testConstantSurfaceIsZeroOnEveryMetric() throws {
        for grid in [try LandscapeGrid.parse("11"), try LandscapeGrid.parse("11", oneDimensional: true),
                     try LandscapeGrid.parse("11", kind: .interpolation)] {
            let m = Roughness.measure([Double](repeating: 2.5, count: grid.pointCount), on: grid)
            XCTAssertEqual(m.values, [0, 0, 0, 0, 0])
        }
    }
}

final class RoughnessSummaryTests: XCTestCase {
    func metrics(_ v: Double) -> RoughnessMetrics {
        RoughnessMetrics(laplacian: v, totalVariation: 2 * v, localMinima: 1, sharpness: v / 2, residualShare: 0.1 * v)
    }

    func testSeedsGiveIntervalsAndPairedDifferencesByHand() {
        // Laplacian of KD over three seeds 1, 2, 3 and of MI 2, 4, 5: MI − KD = 1, 2, 2.
        let surfaces = [(1.0, 2.0), (2, 4), (3, 5)].map { kd, mi in
            [ModeRoughness(mode: "KD", metrics: metrics(kd)), ModeRoughness(mode: "MI", metrics: metrics(mi))]
        }
        let s = RoughnessSummary(surfaces: surfaces)
        XCTAssertEqual(s.intervals[0][0].mean, 2)
        XCTAssertEqual(s.intervals[0][0].halfWidth, 4.302652730 * 1 / 3.0.squareRoot(), accuracy: 1e-8, "s = 1, n = 3")
        XCTAssertEqual(s.paired.count, 1)
        XCTAssertEqual(s.paired[0].differences[0].mean, 5.0 / 3, accuracy: 1e-14)
        XCTAssertEqual(s.paired[0].differences[0].halfWidth, 4.302652730 / 3, accuracy: 1e-8)
        XCTAssertEqual(s.paired[0].differences[2].mean, 0, "local minima equal under both modes")
        let lines = s.csv.split(separator: "\n")
        XCTAssertEqual(lines[0], "mode,metric,n,mean,ci95_low,ci95_high")
        XCTAssertTrue(lines[1].hasPrefix("KD,laplacian,3,2.0,"), String(lines[1]))
        XCTAssertTrue(s.pairedCSV.contains("KD,MI,laplacian,3,"))
        let single = RoughnessSummary(surfaces: [surfaces[0]])
        XCTAssertTrue(single.csv.contains("KD,laplacian,1,1.0,,\n"), "one seed: no interval")
    }
}
