// The stated domain of every numeric option, checked when the command line is parsed (ArgumentParser
// runs each command's and option group's validate() before run()), so a value outside it is one
// line naming the flag, the value and the range, before any file is read or model trained.
// Upper bounds keep every count far from Int overflow and from allocations no machine has; the
// table is in docs/input-validation.md.
import ArgumentParser

enum Domain {
    static let batch = 1...65_536
    static let examples = 1...100_000_000
    static let generated = 1...1_000_000
    static let epochs = 1...100_000
    static let steps = 1...1_000_000_000
    static let patience = 1...1_000_000
    static let sequence = 2...8_192
    static let threads = 1...1_024
    static let repeats = 1...10_000
    static let eigenvalues = 1...100
    static let iterations = 2...1_000_000
    static let lanczos = 0...10_000
    static let probes = 1...1_000_000
    static let calibration = 1...100_000

    /// "--flag 'value': expected what"
    static func refusal(_ flag: String, _ value: String, _ expected: String) -> ValidationError {
        ValidationError("\(flag) '\(value)': expected \(expected)")
    }

    static func count(_ value: Int, _ flag: String, _ range: ClosedRange<Int>, _ unit: String = "") throws {
        guard range.contains(value) else {
            throw refusal(flag, "\(value)", "\(range.lowerBound)...\(range.upperBound)" + (unit.isEmpty ? "" : " \(unit)"))
        }
    }

    static func count(_ value: Int?, _ flag: String, _ range: ClosedRange<Int>, _ unit: String = "") throws {
        if let value { try count(value, flag, range, unit) }
    }

    /// 0 (the estimate skipped) or a count in `range`.
    static func zeroOr(_ value: Int, _ flag: String, _ range: ClosedRange<Int>, _ unit: String) throws {
        guard value == 0 || range.contains(value) else {
            throw refusal(flag, "\(value)", "0 (skip) or \(range.lowerBound)...\(range.upperBound) \(unit)")
        }
    }

    /// A learning rate: finite, positive, at most 1 (AdamW moves each weight by about lr per step;
    /// beyond 1 no BERT training converges).
    static func learningRate(_ value: Double, _ flag: String = "--lr") throws {
        guard value.isFinite, value > 0, value <= 1 else { throw refusal(flag, "\(value)", "a finite learning rate in (0, 1]") }
    }

    /// A relative tolerance: finite, in (0, 1).
    static func tolerance(_ value: Double, _ flag: String = "--tol") throws {
        guard value.isFinite, value > 0, value < 1 else { throw refusal(flag, "\(value)", "a finite tolerance in (0, 1)") }
    }

    /// A finite real in [lower, upper].
    static func real(_ value: Double, _ flag: String, _ range: ClosedRange<Double>, _ what: String) throws {
        guard value.isFinite, range.contains(value) else { throw refusal(flag, "\(value)", "\(what) in [\(range.lowerBound), \(range.upperBound)]") }
    }
}
