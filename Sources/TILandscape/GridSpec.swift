// The grid of (x, y) coordinates a landscape is evaluated on. Coordinates are computed, never
// accumulated (min + i·step would drift), endpoints are exact, and the centre 0 is exactly 0 so the
// unperturbed model is one of the grid points and matches a plain evaluation bit for bit.
import Foundation
import TIData

public struct GridAxis: Codable, Sendable, Equatable {
    public let min: Double
    public let max: Double
    public let num: Int

    public init(min: Double, max: Double, num: Int) throws {
        guard min.isFinite, max.isFinite else { throw GridError.invalid("axis bounds must be finite (got \(min):\(max))") }
        guard num >= 1 else { throw GridError.invalid("axis needs at least 1 point (got \(num))") }
        guard num == 1 || min < max else { throw GridError.invalid("axis min \(min) must be below max \(max)") }
        self.min = min
        self.max = max
        self.num = num
    }

    /// Parses "min:max:num" (e.g. "-1:1:41") or a bare count "41" over `defaultRange`.
    public init(parsing text: String, defaultRange: ClosedRange<Double> = -1...1) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        switch parts.count {
        case 1:
            guard let n = Int(parts[0]) else { throw GridError.invalid("grid axis '\(text)' is neither a count nor min:max:num") }
            try self.init(min: defaultRange.lowerBound, max: defaultRange.upperBound, num: n)
        case 3:
            guard let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else {
                throw GridError.invalid("grid axis '\(text)' must be min:max:num with numbers")
            }
            try self.init(min: lo, max: hi, num: n)
        default:
            throw GridError.invalid("grid axis '\(text)' must be a count or min:max:num")
        }
    }

    /// Coordinate i: min + i·(max−min)/(num−1), endpoints assigned exactly, |c| < 1e-12 snapped to 0.
    /// With num == 1 the single coordinate is `min`.
    public func coordinate(_ i: Int) -> Double {
        precondition(i >= 0 && i < num, "GridAxis: index \(i) outside 0..<\(num)")
        if num == 1 || i == 0 { return min }
        if i == num - 1 { return max }
        let c = min + Double(i) * (max - min) / Double(num - 1)
        return abs(c) < 1e-12 ? 0 : c
    }

    public var coordinates: [Double] { (0..<num).map(coordinate) }

    /// Canonical text, with shortest round-trip doubles: part of the config hash.
    public var canonical: String { "\(min):\(max):\(num)" }
}

/// What the grid coordinates mean.
public enum GridKind: String, Codable, Sendable {
    /// θ + x·d₁ (+ y·d₂) around a centre θ.
    case directions
    /// θ(t) = (1−t)·θ_a + t·θ_b between two parameter vectors; x is t, no y axis.
    case interpolation
}

public struct LandscapeGrid: Codable, Sendable, Equatable {
    public let kind: GridKind
    public let x: GridAxis
    /// nil for a 1-D landscape (one direction, or interpolation).
    public let y: GridAxis?

    public init(kind: GridKind = .directions, x: GridAxis, y: GridAxis?) throws {
        if kind == .interpolation, y != nil { throw GridError.invalid("interpolation grids are 1-D (no y axis)") }
        self.kind = kind
        self.x = x
        self.y = y
    }

    /// `--grid 41` → 41×41 over `range`²; `--grid -1:1:41,-0.5:0.5:21` → per-axis spec;
    /// `--grid 41 --one-d` → x only. Interpolation grids take one axis (default t over [0, 1]).
    public static func parse(_ text: String, kind: GridKind = .directions, oneDimensional: Bool = false,
                             range: ClosedRange<Double> = -1...1) throws -> LandscapeGrid {
        let axes = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let defaultRange = kind == .interpolation && range == -1...1 ? 0...1 : range
        guard (1...2).contains(axes.count) else { throw GridError.invalid("grid '\(text)' must have one or two axes") }
        let x = try GridAxis(parsing: axes[0], defaultRange: defaultRange)
        if kind == .interpolation || oneDimensional {
            guard axes.count == 1 else { throw GridError.invalid("grid '\(text)' has two axes but the landscape is 1-D") }
            return try LandscapeGrid(kind: kind, x: x, y: nil)
        }
        let y = axes.count == 2 ? try GridAxis(parsing: axes[1], defaultRange: defaultRange) : x
        return try LandscapeGrid(kind: kind, x: x, y: y)
    }

    public var isTwoDimensional: Bool { y != nil }
    public var pointCount: Int { x.num * (y?.num ?? 1) }

    /// Point p lies in row p / nx (y index) and column p % nx (x index): rows of constant y,
    /// which is also the block order of the gnuplot grid files.
    public func indices(of point: Int) -> (ix: Int, iy: Int) { (point % x.num, point / x.num) }

    public func coordinates(of point: Int) -> (x: Double, y: Double?) {
        let (ix, iy) = indices(of: point)
        return (x.coordinate(ix), y?.coordinate(iy))
    }

    public var canonical: String { "\(kind.rawValue);\(x.canonical);\(y?.canonical ?? "-")" }
}

public enum GridError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return "invalid grid: \(s)" }
    }
}
