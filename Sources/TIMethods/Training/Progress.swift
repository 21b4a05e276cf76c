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

    /// For code that is not handed RunEvents: reports to `RunEvents.ambient` when `enabled`.
    /// `interval` is kept for source compatibility; how often lines appear is the receiver's choice.
    public convenience init(_ label: String, total: Int, interval: TimeInterval = 2, enabled: Bool = true) {
        self.init(label, total: total, events: enabled ? RunEvents.ambient : .silent)
    }

    public func update(_ done: Int, _ message: @autoclosure @escaping () -> String = "") {
        events.progress(ProgressUpdate(label: label, done: done, total: total, started: start, message: message))
    }
}
