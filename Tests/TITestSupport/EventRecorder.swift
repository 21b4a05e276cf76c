// A RunEvents receiver that keeps everything it is sent, for tests of what library code reports.
import Foundation
import TIData

public final class EventRecorder: @unchecked Sendable {
    /// One progress update as received, its lazy text evaluated (summary if given, else message).
    public struct Update: Equatable {
        public var label: String
        public var done: Int
        public var total: Int
        public var text: String
        public var hasSummary: Bool
    }

    private let lock = NSLock()
    private var _updates: [Update] = []
    private var _notes: [String] = []

    public init() {}

    public var updates: [Update] { lock.lock(); defer { lock.unlock() }; return _updates }
    public var notes: [String] { lock.lock(); defer { lock.unlock() }; return _notes }

    public var events: RunEvents {
        RunEvents(progress: { [self] u in
            let shown = Update(label: u.label, done: u.done, total: u.total, text: u.summary?() ?? u.message(), hasSummary: u.summary != nil)
            lock.lock(); _updates.append(shown); lock.unlock()
        }, note: { [self] n in
            lock.lock(); _notes.append(n); lock.unlock()
        })
    }
}
