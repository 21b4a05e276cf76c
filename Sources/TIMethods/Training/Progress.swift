// A counted operation's progress, forwarded to the caller's RunEvents (which throttles and formats).
import Foundation
import TIData

public final class ProgressReporter: @unchecked Sendable {
    let label: String
    let total: Int
    let start = Date()
    let events: RunEvents

    public init(_ label: String, total: Int, events: RunEvents) {
        self.label = label; self.total = total; self.events = events
    }

    public func update(_ done: Int, _ message: @autoclosure @escaping () -> String = "") {
        events.progress(ProgressUpdate(label: label, done: done, total: total, started: start, message: message))
    }
}
