// The grid of (x, y) coordinates a landscape is evaluated on. Coordinates are computed, never
// accumulated (min + i·step would drift), endpoints are exact, and the centre 0 is exactly 0 so the
// unperturbed model is one of the grid points and matches a plain evaluation bit for bit.
import Foundation
import TIData

public struct GridAxis: Codable, Sendable, Equatable {
    public let min: Double
    public let max: Double
    public let num: Int

    /// Most points on one axis: 10^5 is already days per surface; the bound keeps counts exact.
    public static let maxPoints = 100_001

    public init(min: Double, max: Double, num: Int) throws {
        guard min.isFinite, max.isFinite else { throw GridError.invalid("expected finite axis bounds, got \(min):\(max)") }
        guard (1...Self.maxPoints).contains(num) else { throw GridError.invalid("expected 1...\(Self.maxPoints) points per axis, got \(num)") }
        guard num == 1 || min < max else { throw GridError.invalid("expected axis min below max, got \(min):\(max)") }
        self.min = min
        self.max = max
        self.num = num
        // Two points snapped to the same coordinate would be one CSV key (the run would call its
        // own record malformed): refuse a range too narrow for its point count.
        var previous = -Double.infinity
        for c in coordinates {
            guard c > previous else {
                throw GridError.invalid("expected distinct coordinates: \(num) points over \(min):\(max) collide (at \(c)); widen the range or use fewer points")
            }
            previous = c
        }
    }

    /// Decoded through the checks above: a record on disk is input like any other.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(min: c.decode(Double.self, forKey: .min), max: c.decode(Double.self, forKey: .max), num: c.decode(Int.self, forKey: .num))
        } catch let e as GridError {
            throw DecodingError.dataCorruptedError(forKey: .num, in: c, debugDescription: e.reason)
        }
    }

    /// Parses "min:max:num" (e.g. "-1:1:41") or a bare count "41" over `defaultRange`.
    public init(parsing text: String, defaultRange: ClosedRange<Double> = -1...1) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        switch parts.count {
        case 1:
            guard let n = Int(parts[0]) else { throw GridError.invalid("expected a count or min:max:num, got '\(text)'") }
            try self.init(min: defaultRange.lowerBound, max: defaultRange.upperBound, num: n)
        case 3:
            guard let lo = Double(parts[0]), let hi = Double(parts[1]), let n = Int(parts[2]) else {
                throw GridError.invalid("expected min:max:num with numbers, got '\(text)'")
            }
            try self.init(min: lo, max: hi, num: n)
        default:
            throw GridError.invalid("expected a count or min:max:num, got '\(text)'")
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

    /// Most points in a grid (1001 × 1001): a run keeps a few index structures per point.
    public static let maxPoints = 1_002_001

    public init(kind: GridKind = .directions, x: GridAxis, y: GridAxis?) throws {
        if kind == .interpolation, y != nil { throw GridError.invalid("expected one axis: interpolation grids are 1-D") }
        let total = x.num.multipliedReportingOverflow(by: y?.num ?? 1)
        guard !total.overflow, total.partialValue <= Self.maxPoints else {
            throw GridError.invalid("expected at most \(Self.maxPoints) points in all, got \(x.num) × \(y?.num ?? 1)")
        }
        self.kind = kind
        self.x = x
        self.y = y
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(kind: c.decode(GridKind.self, forKey: .kind), x: c.decode(GridAxis.self, forKey: .x),
                          y: c.decodeIfPresent(GridAxis.self, forKey: .y))
        } catch let e as GridError {
            throw DecodingError.dataCorruptedError(forKey: .y, in: c, debugDescription: e.reason)
        }
    }

    /// `--grid 41` → 41×41 over `range`²; `--grid -1:1:41,-0.5:0.5:21` → per-axis spec;
    /// `--grid 41 --one-d` → x only. Interpolation grids take one axis (default t over [0, 1]).
    public static func parse(_ text: String, kind: GridKind = .directions, oneDimensional: Bool = false,
                             range: ClosedRange<Double> = -1...1) throws -> LandscapeGrid {
        let axes = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let defaultRange = kind == .interpolation && range == -1...1 ? 0...1 : range
        guard (1...2).contains(axes.count) else { throw GridError.invalid("expected one or two axes, got '\(text)'") }
        let x = try GridAxis(parsing: axes[0], defaultRange: defaultRange)
        if kind == .interpolation || oneDimensional {
            guard axes.count == 1 else { throw GridError.invalid("expected one axis (the landscape is 1-D), got '\(text)'") }
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
    /// What was expected and what was found, without the "invalid grid" prefix.
    public var reason: String {
        switch self { case .invalid(let s): return s }
    }
    public var description: String { "invalid grid: \(reason)" }
}
