// The CLI's receiver of library run events: progress lines with elapsed time and ETA on stderr,
// at most one per operation every `interval` seconds (an operation's last update always shows),
// and notes as one line each.
import Foundation
import TIData

final class ProgressLines: @unchecked Sendable {
    /// One operation: its label and start time (two runs of the same label are two operations).
    private struct Operation: Hashable { let label: String; let started: Date }

    /// The CLI's one receiver: every command's operations share its throttling state.
    static let standardError = ProgressLines()

    let interval: TimeInterval
    private let write: @Sendable (String) -> Void
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var lastShown: [Operation: Date] = [:]

    init(interval: TimeInterval = 2, now: @escaping @Sendable () -> Date = { Date() },
         write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.interval = interval; self.now = now; self.write = write
    }

    var events: RunEvents {
        RunEvents(progress: { [self] in progress($0) }, note: { [self] in write($0) })
    }

    func progress(_ u: ProgressUpdate) {
        let t = now()
        guard shouldShow(u, at: t) else { return }
        write(Self.line(u, at: t))
    }

    private func shouldShow(_ u: ProgressUpdate, at t: Date) -> Bool {
        lock.lock(); defer { lock.unlock() }
        let op = Operation(label: u.label, started: u.started)
        guard u.isFinal || t.timeIntervalSince(lastShown[op] ?? .distantPast) >= interval else { return false }
        if u.isFinal { lastShown[op] = nil } else { lastShown[op] = t }
        return true
    }

    /// "label done/total (pct%) elapsed m:ss eta m:ss message", or "label summary" when the
    /// operation accounts for its own progress.
    static func line(_ u: ProgressUpdate, at t: Date) -> String {
        if let summary = u.summary { return "\(u.label) \(summary())" }
        let elapsed = t.timeIntervalSince(u.started)
        let eta = u.done > 0 ? elapsed / Double(u.done) * Double(u.total - u.done) : 0
        let pct = u.total > 0 ? 100 * Double(u.done) / Double(u.total) : 100
        return String(format: "%@ %d/%d (%.0f%%) elapsed %@ eta %@ %@", u.label, u.done, u.total, pct,
                      clock(elapsed), clock(eta), u.message())
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
