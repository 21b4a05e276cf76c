// The oscillation figures' per-step rows are the means over a run's tensors (hand values).
import XCTest
import Foundation
@testable import TIStudies

final class OscillationFigureDataTests: XCTestCase {
    func testPerStepRowsAreTheMeansOverTensors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-oscfig-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
        step,phase,tensor,changed_fraction,oscillation_frequency,near_threshold_share
        0,1,a,0,0,0.5
        0,1,b,0,0,0.25
        1,1,a,0.5,0.1,0.25
        1,1,b,0.25,0,0.25
        2,2,a,0,0.3,0

        """.write(to: dir.appendingPathComponent("oscillation.csv"), atomically: true, encoding: .utf8)
        try OscillationFigureData.write(dir, mode: "TI-G", into: dir)
        let text = try String(contentsOf: dir.appendingPathComponent("oscillation/osc-TI-G.csv"), encoding: .utf8)
        XCTAssertEqual(text, """
        step,phase,changed_fraction,oscillation_frequency,near_threshold_share
        0,1,0,0,0.375
        1,1,0.375,0.05,0.25
        2,2,0,0.3,0

        """)
    }
}
