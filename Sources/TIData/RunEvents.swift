// What a long library operation tells whoever started it: counted progress and one-line notes.
// Library code never writes to stderr itself; the receiver decides what is shown, how often
// (throttling) and how (elapsed time, ETA), so a library user can log, collect or drop the events.
import Foundation

/// One step of a counted operation. `message` and `summary` are evaluated only when the receiver
/// shows the update, so reporting every step costs nothing when most updates are dropped.
public struct ProgressUpdate {
    /// What is running, e.g. "finetune count" (one operation is one label and start time).
    public var label: String
    public var done: Int
    public var total: Int
    /// When the operation began: the receiver derives elapsed time and ETA from it.
    public var started: Date
    /// Extra detail after the counters (loss, metric, ...).
    public var message: () -> String
    /// The operation's own account of its counters and remaining time, shown instead of the
    /// receiver's when present (a resumed landscape knows its rate from this session's points only).
    public var summary: (() -> String)?

    public init(label: String, done: Int, total: Int, started: Date, message: @escaping () -> String = { "" },
                summary: (() -> String)? = nil) {
        self.label = label; self.done = done; self.total = total; self.started = started
        self.message = message; self.summary = summary
    }

    /// The last update of an operation, which a throttling receiver should not drop.
    public var isFinal: Bool { done >= total }
}

/// The receiver of a run's events, passed down from the front end.
public struct RunEvents: Sendable {
    public var progress: @Sendable (ProgressUpdate) -> Void
    /// A line worth showing once (a checkpoint note, a teacher trained on demand, skipped rows).
    public var note: @Sendable (String) -> Void

    public init(progress: @escaping @Sendable (ProgressUpdate) -> Void, note: @escaping @Sendable (String) -> Void) {
        self.progress = progress; self.note = note
    }

    public static let silent = RunEvents(progress: { _ in }, note: { _ in })

}
