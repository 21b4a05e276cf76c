// The 95 % Student-t interval against hand computation and printed t tables.
import Foundation
import TIData
import XCTest

final class MeanIntervalTests: XCTestCase {
    func testTQuantilesMatchTheTable() {
        // t_{0.975, ν} from standard tables.
        for (ν, t) in [(1.0, 12.706204736), (2, 4.302652730), (4, 2.776445105), (9, 2.262157163), (30, 2.042272456)] {
            XCTAssertEqual(StudentT.quantile(0.975, degreesOfFreedom: ν), t, accuracy: 1e-8, "ν = \(ν)")
        }
        XCTAssertEqual(StudentT.cdf(0, degreesOfFreedom: 3), 0.5, accuracy: 1e-15)
        // ν = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π.
        XCTAssertEqual(StudentT.cdf(-2.5, degreesOfFreedom: 1), 0.5 + atan(-2.5) / .pi, accuracy: 1e-12)
    }

    func testMeanIntervalByHand() {
        // 1…5: mean 3, s = √2.5, half width t_{0.975,4} · √2.5 / √5 = 2.776445105 · √0.5.
        let m = MeanInterval([1, 2, 3, 4, 5])
        XCTAssertEqual(m.mean, 3)
        XCTAssertEqual(m.standardDeviation, 2.5.squareRoot(), accuracy: 1e-14)
        XCTAssertEqual(m.halfWidth, 2.776445105 * 0.5.squareRoot(), accuracy: 1e-8)
        XCTAssertEqual(m.low, 3 - 1.963243, accuracy: 1e-6)
        XCTAssertTrue(m.excludes(0.9))
        XCTAssertFalse(m.excludes(1.1))
        let one = MeanInterval([4.2])
        XCTAssertEqual(one.mean, 4.2)
        XCTAssertTrue(one.halfWidth.isNaN)
        XCTAssertFalse(one.excludes(0))
    }

    func testPairedDifferenceByHand() {
        // Differences 1, 2, 2: mean 5/3, s = √(1/3), half width t_{0.975,2} · √(1/3) / √3 = 4.302652730 / 3.
        let d = MeanInterval.pairedDifference([1, 2, 3], [2, 4, 5])
        XCTAssertEqual(d.mean, 5.0 / 3, accuracy: 1e-14)
        XCTAssertEqual(d.halfWidth, 4.302652730 / 3, accuracy: 1e-8)
        XCTAssertTrue(d.excludes(0))
    }
}
