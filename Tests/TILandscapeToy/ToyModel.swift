// Small stand-ins for the model: a layout with every parameter role and evaluators whose values
// are exact functions of θ, so interrupted and uninterrupted runs can be compared bit for bit.
// A library of its own because a separate process (tianalyze-test-child) must run the same toy.
import Foundation
import TILandscape
import TILinalg

public enum Toy {
    public static let layout = ParameterLayout([
        ("embed", [5, 3], .embedding),
        ("dense.weight", [4, 3], .matrix),
        ("dense.bias", [4], .bias),
        ("ln.gain", [3], .layerNormGain),
        ("ln.bias", [3], .layerNormBias),
        ("act.scale", [1], .scale),
    ])

    /// Deterministic weights with one all-zero matrix row (row 2 of dense.weight).
    public static var weights: [Float] {
        var rng = SeededRandom(seed: 11)
        var w: [Float] = rng.normalVector(layout.count)
        let dense = layout.slot("dense.weight")
        for i in 0..<dense.rowLength { w[dense.offset + 2 * dense.rowLength + i] = 0 }
        return w
    }

    public static func directions(seed: UInt64 = 7) -> LandscapeDirections {
        LandscapeDirections.random(weights: weights, layout: layout, seed: seed)
    }

    public static func config(grid: LandscapeGrid, space: LandscapeSpace, evalSet: String = "toy") -> LandscapeConfig {
        LandscapeConfig(modes: ["KD", "TI-G"], quantities: ["loss", "metric"], grid: grid, seed: 7,
                        directionsHash: space.hash, checkpointHash: LandscapeConfig.parameterHash(weights),
                        evalSet: evalSet, normalization: "filter/biasbn")
    }

    public static func tempDir(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tilandscape-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The run the kill/resume test interrupts: 35 points, slow enough to be killed part-way.
    public static let slowGrid = "-1:1:7,-1:1:5"

    public static func slowRunSetup() throws -> (LandscapeConfig, LandscapeSpace) {
        let space = LandscapeSpace.around(weights, directions: directions())
        return (config(grid: try LandscapeGrid.parse(slowGrid), space: space), space)
    }
}

/// Values depend on every parameter, so a wrong point → parameter mapping changes the numbers.
/// `failAfter`: throw on that call (simulated crash); `delay`: seconds per call (kill test).
public final class ToyEvaluator: LandscapeEvaluator {
    public let modes = ["KD", "TI-G"]
    public let quantities = ["loss", "metric"]
    public var calls = 0
    public var failAfter: Int?
    public var delay: Double = 0

    public struct Crash: Error {}

    public init() {}

    public func evaluate(parameters: [Float]) throws -> [[Double]] {
        if let failAfter, calls >= failAfter { throw Crash() }
        calls += 1
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var sq = 0.0, lin = 0.0
        for (i, p) in parameters.enumerated() {
            sq += Double(p) * Double(p)
            lin += Double(p) * Double(i % 5 + 1)
        }
        return [[sq / 3, sin(lin)], [sq / 3 + 0.1 * lin * lin, cos(lin) / 7]]
    }
}
