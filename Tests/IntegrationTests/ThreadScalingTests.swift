// Amdahl's arithmetic by hand, and the splittable-work meter against a body whose split and
// serial parts take known wall times.
import XCTest
@testable import TIStudies
import TILinalg

final class ThreadScalingTests: XCTestCase {
    override func tearDown() { Parallel.workers = 1 }

    func testAmdahlArithmetic() {
        // S(2) = 1/(f + (1 − f)/2): f = 0.2 gives 1/0.6; solving back returns 0.2.
        XCTAssertEqual(ThreadScaling.amdahl(serialFraction: 0.2, cores: 2), 1 / 0.6, accuracy: 1e-12)
        XCTAssertEqual(ThreadScaling.serialFraction(speedup: 1 / 0.6, threads: 2), 0.2, accuracy: 1e-12)
        XCTAssertEqual(ThreadScaling.serialFraction(speedup: 2, threads: 2), 0)
        XCTAssertEqual(ThreadScaling.serialFraction(speedup: 0.8, threads: 2), 1, "slower than serial: no parallel part")
        XCTAssertEqual(ThreadScaling.amdahl(serialFraction: 0, cores: 64), 64, accuracy: 1e-12)
    }

    /// Spins for `ms` of wall time, so the parts keep their ratio on a busy machine.
    func spin(_ ms: Double) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(ms * 1e6)
        while DispatchTime.now().uptimeNanoseconds < end {}
    }

    func testMeterSeesTheSplittableShare() {
        // 30 ms serial, then 4 items of 10 ms that split (40 ms): share 40/70 on one thread. The nested
        // forEach inside an item must not be counted again.
        let row = ThreadScaling.measure("meter", threads: 2, repeats: 3) {
            spin(30)
            Parallel.forEach(4) { _ in
                spin(10)
                Parallel.forEach(2) { _ in }
            }
        }
        XCTAssertEqual(row.splittableShare, 40.0 / 70.0, accuracy: 0.08)
        XCTAssertEqual(row.meteredSerialFraction, 30.0 / 70.0, accuracy: 0.08)
    }
}
