// Steady progress lines with ETA on stderr, at most one every `interval` seconds.
import Foundation

public final class ProgressReporter: @unchecked Sendable {
    let label: String
    let total: Int
    let start = Date()
    var lastPrint = Date.distantPast
    let interval: TimeInterval
    public var enabled: Bool

    public init(_ label: String, total: Int, interval: TimeInterval = 2, enabled: Bool = true) {
        self.label = label; self.total = total; self.interval = interval; self.enabled = enabled
    }

    public func update(_ done: Int, _ message: @autoclosure () -> String = "") {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let pct = total > 0 ? 100 * Double(done) / Double(total) : 100
        let line = String(format: "%@ %d/%d (%.0f%%) elapsed %@ eta %@ %@", label, done, total, pct,
                          Self.clock(elapsed), Self.clock(eta), message())
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
