// compare's summary over seeds: the median (mean of the middle two for an even count) and the
// spread of each mode's final dev metric, by hand.
import XCTest
import TICore
@testable import TIStudies

final class PTQSeedSpreadTests: XCTestCase {
    func row(_ mode: String, _ seed: UInt64, _ metric: Double) -> ConvergenceRow {
        ConvergenceRow(mode: mode, seed: seed, finalMetric: metric, bestMetric: metric, stepsTo99PercentFP: nil,
                       stepsToHalfProbeLoss: nil, stepsToQuarterProbeLoss: nil, finalProbeLoss: 0, stepOneLossJump: nil,
                       stepOneLength: nil, totalSteps: 0, seconds: 0)
    }

    func testMedianAndSpreadPerModeByHand() {
        let runs = [row("PTQ-W8A8", 1, 0.80), row("KD", 1, 0.5), row("PTQ-W8A8", 2, 0.70), row("PTQ-W8A8", 3, 0.95),
                    row("KD", 2, 0.6)]
        let s = SeedSpread.rows(runs)
        XCTAssertEqual(s.map(\.mode), ["PTQ-W8A8", "KD"])
        XCTAssertEqual(s[0].seeds, 3)
        XCTAssertEqual(s[0].median, 0.80)
        XCTAssertEqual(s[0].spread, 0.25, accuracy: 1e-15)
        XCTAssertEqual(s[1].median, 0.55, accuracy: 1e-15)
        XCTAssertEqual([s[1].min, s[1].max], [0.5, 0.6])
        XCTAssertTrue(SeedSpread.table(s, metricName: "acc").contains("0.8000"))
    }
}
