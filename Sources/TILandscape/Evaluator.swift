// The seam between the landscape engine and the model: the engine only produces parameter
// vectors and records what comes back, so it can be tested with toy functions and connected to
// BERT (in all training modes at once) without knowing anything about it.
import TILinalg

public protocol LandscapeEvaluator {
    /// Names of the training modes evaluated at every point, e.g. ["KD", "MI", "CI", "OI"].
    var modes: [String] { get }
    /// Names of the numbers reported per mode, e.g. ["loss", "task_loss", "metric"].
    var quantities: [String] { get }
    /// Values at θ: result[mode][quantity], shaped modes.count × quantities.count.
    func evaluate(parameters: [Float]) throws -> [[Double]]
}

/// Maps a grid point to the parameter vector evaluated there.
public struct LandscapeSpace: Sendable {
    public enum Source: Sendable {
        case directions(center: [Float], directions: LandscapeDirections)
        case interpolation(from: [Float], to: [Float])
    }
    public let source: Source
    /// Hash recorded as the config's `directionsHash`: the directions' hash, or, for interpolation,
    /// a hash of the target endpoint (the start is the checkpoint). Computed once.
    public let hash: String

    private init(source: Source, hash: String) {
        self.source = source
        self.hash = hash
    }

    public static func around(_ center: [Float], directions: LandscapeDirections) -> LandscapeSpace {
        precondition(center.count == directions.dimension, "LandscapeSpace: centre has \(center.count) entries, directions \(directions.dimension)")
        return LandscapeSpace(source: .directions(center: center, directions: directions), hash: directions.hash)
    }

    public static func between(_ a: [Float], _ b: [Float]) -> LandscapeSpace {
        precondition(a.count == b.count, "LandscapeSpace: endpoints differ in length")
        var h = StableHash()
        h.add("interpolation-target")
        h.add(b)
        return LandscapeSpace(source: .interpolation(from: a, to: b), hash: h.hex)
    }

    public var kind: GridKind {
        switch source { case .directions: return .directions; case .interpolation: return .interpolation }
    }

    /// Number of directions (1 or 2) or 1 for interpolation.
    public var axes: Int {
        switch source { case .directions(_, let d): return d.count; case .interpolation: return 1 }
    }

    /// θ + x·d₁ + y·d₂, or (1−t)·θ_a + t·θ_b. Combined in Double and rounded once, so the
    /// centre (x = y = 0) and the endpoints (t = 0, 1) reproduce the stored vectors exactly.
    public func parameters(x: Double, y: Double?) -> [Float] {
        switch source {
        case .directions(let c, let d):
            let dx = d.vectors[0]
            if let y, d.count == 2, y != 0 {
                let dy = d.vectors[1]
                return (0..<c.count).map { Float(Double(c[$0]) + x * Double(dx[$0]) + y * Double(dy[$0])) }
            }
            if x == 0 { return c }
            return (0..<c.count).map { Float(Double(c[$0]) + x * Double(dx[$0])) }
        case .interpolation(let a, let b):
            if x == 0 { return a }
            if x == 1 { return b }
            return (0..<a.count).map { Float((1 - x) * Double(a[$0]) + x * Double(b[$0])) }
        }
    }
}
