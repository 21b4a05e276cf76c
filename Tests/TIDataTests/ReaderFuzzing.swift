// A seeded mutation fuzzer for the readers of untrusted files. Each iteration takes an input from
// the pool (the committed seed corpus plus mutants a reader accepted, which reach deeper code),
// stacks one to four byte-level mutations (bit flips, interesting bytes and tokens, numbers that
// overflow, deletions, duplications, splices from another input, truncation) and hands it to the
// reader. The only acceptable outcomes are success or a DataError; another error fails the run, a
// trap ends the process (the input is kept in TIANALYZE_FUZZ_LAST for replay), an input that takes
// longer than `hangSeconds` aborts with the input saved, and the peak resident memory is reported.
import Foundation
import TIData
import TILinalg

struct FuzzTarget {
    var name: String
    var seeds: [Data]
    /// Format-specific tokens the mutator inserts ("}", "\t", pickle opcodes, …).
    var dictionary: [[UInt8]]
    /// Parses `input` (and uses what it read); returns normally if accepted, throws if refused.
    var read: (Data, inout SeededRandom) throws -> Void
    /// An optional mutation of the input's structure (e.g. a zip's inner pickle, rewrapped); it is
    /// given the byte-level mutator to apply inside.
    var structuralMutation: ((Data, inout SeededRandom, (inout [UInt8], inout SeededRandom) -> Void) -> Data?)? = nil
}

struct FuzzReport: CustomStringConvertible {
    var target: String
    var iterations = 0, accepted = 0, rejected = 0
    var otherErrors: [String] = []
    var slowestSeconds = 0.0
    var seconds = 0.0
    var peakResidentGrowthMB = 0.0

    var description: String {
        String(format: "fuzz %@: %d inputs in %.0f s (%d accepted, %d refused with DataError, %d other errors), slowest input %.3f s, peak RSS growth %.0f MB",
               target, iterations, seconds, accepted, rejected, otherErrors.count, slowestSeconds, peakResidentGrowthMB)
    }
}

enum ReaderFuzzer {
    static let hangSeconds = 10.0
    static let maxInputBytes = 1 << 20
    static let poolLimit = 256
    /// Numbers that overflow Int, Float or Double, or sit on a boundary.
    static let numbers = ["0", "-1", "-0", "1e400", "-1e400", "1e-400", "9223372036854775807", "9223372036854775808",
                          "18446744073709551616", "4294967296", "2147483648", "65536", "2.5", "NaN", "Infinity", "1e308"].map { Array($0.utf8) }

    /// Runs `target` for `seconds` (at least `minIterations` inputs) from `seed`.
    static func run(_ target: FuzzTarget, seconds: Double, minIterations: Int, seed: UInt64) -> FuzzReport {
        var report = FuzzReport(target: target.name)
        var rng = SeededRandom(seed: seed).derived(target.name)
        var pool = target.seeds
        let startRSS = residentPeakMB()
        let watchdog = Watchdog(label: target.name)
        let start = Date()
        while report.iterations < minIterations || Date().timeIntervalSince(start) < seconds {
            var input = pool[rng.below(pool.count)]
            if let structural = target.structuralMutation, rng.below(4) != 0,
               let s = structural(input, &rng, { bytes, r in mutate(&bytes, target: target, pool: pool, rng: &r) }) {
                input = s
            } else {
                var bytes = [UInt8](input)
                mutate(&bytes, target: target, pool: pool, rng: &rng)
                input = Data(bytes.prefix(maxInputBytes))
            }
            watchdog.begin(input)
            let t0 = Date()
            var readerRng = rng.derived("read")
            do {
                try target.read(input, &readerRng)
                report.accepted += 1
                if pool.count < poolLimit { pool.append(input) } else { pool[target.seeds.count + rng.below(poolLimit - target.seeds.count)] = input }
            } catch is DataError {
                report.rejected += 1
            } catch {
                report.otherErrors.append("\(type(of: error)): \(error)")
            }
            report.slowestSeconds = max(report.slowestSeconds, Date().timeIntervalSince(t0))
            watchdog.end()
            report.iterations += 1
        }
        watchdog.stop()
        report.seconds = Date().timeIntervalSince(start)
        report.peakResidentGrowthMB = residentPeakMB() - startRSS
        return report
    }

    /// One to four stacked byte-level mutations.
    static func mutate(_ b: inout [UInt8], target: FuzzTarget, pool: [Data], rng: inout SeededRandom) {
        for _ in 0..<(1 + rng.below(4)) {
            let at = b.isEmpty ? 0 : rng.below(b.count)
            switch rng.below(10) {
            case 0 where !b.isEmpty: b[at] ^= UInt8(1 << rng.below(8))
            case 1 where !b.isEmpty: b[at] = UInt8(truncatingIfNeeded: rng.next())
            case 2: b.insert(contentsOf: target.dictionary[rng.below(target.dictionary.count)], at: at)
            case 3 where !b.isEmpty:
                if let e = target.dictionary.randomElement(using: &rng), let first = e.first { b[at] = first }
            case 4 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + rng.below(16)))
            case 5 where !b.isEmpty:
                let end = min(b.count, at + 1 + rng.below(64))
                b.insert(contentsOf: Array(b[at..<end]), at: rng.below(b.count + 1))
            case 6:
                let other = [UInt8](pool[rng.below(pool.count)])
                guard !other.isEmpty else { break }
                let from = rng.below(other.count)
                b.replaceSubrange(at..<min(b.count, at + rng.below(32)), with: other[from..<min(other.count, from + 1 + rng.below(64))])
            case 7: replaceNumber(&b, at: at, rng: &rng)
            case 8 where !b.isEmpty: b.removeSubrange(rng.below(b.count)...)
            default: if !b.isEmpty { b[at] = b[at] &+ UInt8(truncatingIfNeeded: rng.below(5)) &- 2 }
            }
        }
    }

    /// Replaces the run of digits at or after `at` with an interesting number.
    static func replaceNumber(_ b: inout [UInt8], at: Int, rng: inout SeededRandom) {
        let isDigit = { (c: UInt8) in c >= 0x30 && c <= 0x39 }
        guard let s = b[at...].firstIndex(where: isDigit) ?? b.firstIndex(where: isDigit) else { return }
        var e = s
        while e < b.count && (isDigit(b[e]) || b[e] == UInt8(ascii: ".")) { e += 1 }
        b.replaceSubrange(s..<e, with: numbers[rng.below(numbers.count)])
    }

    /// Peak resident set of this process so far, in MB.
    static func residentPeakMB() -> Double {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return Double(u.ru_maxrss) / 1024
    }
}

/// Aborts the process when one input takes longer than `ReaderFuzzer.hangSeconds`, after saving
/// the input (a hang would otherwise stall the suite with nothing to reproduce it from).
final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: Date?
    private var input = Data()
    private var running = true
    private let label: String
    /// Where the current input is kept (for replay after a crash) when TIANALYZE_FUZZ_LAST is set.
    private let lastInput = ProcessInfo.processInfo.environment["TIANALYZE_FUZZ_LAST"]

    init(label: String) {
        self.label = label
        let t = Thread { [weak self] in
            while let s = self, s.poll() { Thread.sleep(forTimeInterval: 0.5) }
        }
        t.start()
    }

    func begin(_ data: Data) {
        if let lastInput { try? data.write(to: URL(fileURLWithPath: lastInput + "-" + label)) }
        lock.lock(); started = Date(); input = data; lock.unlock()
    }

    func end() { lock.lock(); started = nil; lock.unlock() }
    func stop() { lock.lock(); running = false; lock.unlock() }

    private func poll() -> Bool {
        lock.lock(); defer { lock.unlock() }
        if let s = started, Date().timeIntervalSince(s) > ReaderFuzzer.hangSeconds {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("tianalyze-fuzz-hang-\(label)").path
            try? input.write(to: URL(fileURLWithPath: path))
            FileHandle.standardError.write(Data("fuzz \(label): one input took over \(ReaderFuzzer.hangSeconds) s; saved to \(path)\n".utf8))
            abort()
        }
        return running
    }
}
