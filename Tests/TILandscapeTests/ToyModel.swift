// Small stand-ins for the model: a layout with every parameter role and evaluators whose values
// are exact functions of θ, so interrupted and uninterrupted runs can be compared bit for bit.
import Foundation
import TILandscape
import TILinalg

enum Toy {
    static let layout = ParameterLayout([
        ("embed", [5, 3], .embedding),
        ("dense.weight", [4, 3], .matrix),
        ("dense.bias", [4], .bias),
        ("ln.gain", [3], .layerNormGain),
        ("ln.bias", [3], .layerNormBias),
        ("act.scale", [1], .scale),
    ])

    /// Deterministic weights with one all-zero matrix row (row 2 of dense.weight).
    static var weights: [Float] {
        var rng = SeededRandom(seed: 11)
        var w: [Float] = rng.normalVector(layout.count)
        let dense = layout.slot("dense.weight")
        for i in 0..<dense.rowLength { w[dense.offset + 2 * dense.rowLength + i] = 0 }
        return w
    }

    static func directions(seed: UInt64 = 7) -> LandscapeDirections {
        LandscapeDirections.random(weights: weights, layout: layout, seed: seed)
    }

    static func config(grid: LandscapeGrid, space: LandscapeSpace, evalSet: String = "toy") -> LandscapeConfig {
        LandscapeConfig(modes: ["KD", "TI-G"], quantities: ["loss", "metric"], grid: grid, seed: 7,
                        directionsHash: space.hash, checkpointHash: LandscapeConfig.parameterHash(weights),
                        evalSet: evalSet, normalization: "filter/biasbn")
    }

    static func tempDir(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tilandscape-\(label)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Values depend on every parameter, so a wrong point → parameter mapping changes the numbers.
/// `failAfter`: throw on that call (simulated crash); `delay`: seconds per call (kill test).
final class ToyEvaluator: LandscapeEvaluator {
    let modes = ["KD", "TI-G"]
    let quantities = ["loss", "metric"]
    var calls = 0
    var failAfter: Int?
    var delay: Double = 0

    struct Crash: Error {}

    func evaluate(parameters: [Float]) throws -> [[Double]] {
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
