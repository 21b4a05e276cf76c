// The CLI's receiver of library run events: the progress line format, one line per operation per
// interval (the last update always), and notes passed through as they are.
import XCTest
import Foundation
import TIData
@testable import tianalyze

final class ProgressLinesTests: XCTestCase {
    final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_000_000) }
    final class Lines: @unchecked Sendable { var all: [String] = [] }

    private func receiver(_ clock: Clock, _ lines: Lines) -> ProgressLines {
        ProgressLines(interval: 2, now: { clock.now }, write: { lines.all.append($0) })
    }

    func testLineCarriesCountsPercentElapsedEtaAndMessage() {
        let clock = Clock(), lines = Lines()
        let events = receiver(clock, lines).events
        let start = clock.now
        clock.now = start + 75
        events.progress(ProgressUpdate(label: "finetune count", done: 25, total: 100, started: start, message: { "dev accuracy 0.5000" }))
        // 75 s for 25 of 100: 225 s to go.
        XCTAssertEqual(lines.all, ["finetune count 25/100 (25%) elapsed 1:15 eta 3:45 dev accuracy 0.5000"])
        clock.now = start + 3 * 3600 + 62
        events.progress(ProgressUpdate(label: "finetune count", done: 100, total: 100, started: start))
        XCTAssertEqual(lines.all.last, "finetune count 100/100 (100%) elapsed 3:01:02 eta 0:00 ")
    }

    func testOperationsOwnSummaryReplacesTheCounters() {
        let clock = Clock(), lines = Lines()
        receiver(clock, lines).events.progress(ProgressUpdate(label: "landscape", done: 3, total: 9, started: clock.now,
                                                              summary: { "3/9 points, 1.50 s/point, ETA 9s" }))
        XCTAssertEqual(lines.all, ["landscape 3/9 points, 1.50 s/point, ETA 9s"])
    }

    func testAtMostOneLinePerIntervalPerOperationAndTheLastAlways() {
        let clock = Clock(), lines = Lines()
        let events = receiver(clock, lines).events
        let a = clock.now, b = clock.now + 0.5
        var built = 0
        func update(_ label: String, _ started: Date, _ done: Int) {
            events.progress(ProgressUpdate(label: label, done: done, total: 10, started: started, message: { built += 1; return "m\(done)" }))
        }
        update("a", a, 1)                      // first: shown
        clock.now += 1; update("a", a, 2)      // 1 s later: dropped
        update("b", b, 1)                      // another operation: shown
        clock.now += 1; update("a", a, 3)      // 2 s after a's last line: shown
        clock.now += 0.1; update("a", a, 10)   // the last: shown at once
        update("a", a + 60, 1)                 // same label, new start: a new operation
        XCTAssertEqual(lines.all.map { $0.split(separator: " ").prefix(2).joined(separator: " ") },
                       ["a 1/10", "b 1/10", "a 3/10", "a 10/10", "a 1/10"])
        XCTAssertEqual(built, 5, "a dropped update's message is never built")
    }

    func testNotesAreWrittenAsGiven() {
        let lines = Lines()
        receiver(Clock(), lines).events.note("checkpoint: pooler initialized randomly")
        XCTAssertEqual(lines.all, ["checkpoint: pooler initialized randomly"])
    }
}
