// Every random draw in tianalyze comes from this generator, seeded from the command line, so a
// run is reproduced bit for bit from the seed written into its metadata.

/// xoshiro256** seeded through SplitMix64: fast, well tested, and identical on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var s: (UInt64, UInt64, UInt64, UInt64)
    private var spareNormal: Double?

    public init(seed: UInt64) {
        self.seed = seed
        var sm = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(&sm), splitmix(&sm), splitmix(&sm), splitmix(&sm))
    }

    /// An independent stream derived from this seed and a label (e.g. "dropout", "directions").
    public func derived(_ label: String) -> SeededRandom {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a of the label, mixed with the seed
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return SeededRandom(seed: seed ^ h)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        @inline(__always) func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always) public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n (n > 0).
    @inline(__always) public mutating func below(_ n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    /// Standard normal by Box–Muller (the pair's second value is kept for the next call).
    public mutating func normal() -> Double {
        if let z = spareNormal { spareNormal = nil; return z }
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        let r = (-2 * _log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        spareNormal = r * _sin(theta)
        return r * _cos(theta)
    }

    /// ±1 with equal probability (Rademacher).
    @inline(__always) public mutating func rademacher() -> Double { (next() >> 63) == 0 ? -1 : 1 }

    public mutating func normalVector<T: BLASScalar>(_ n: Int, std: Double = 1) -> [T] {
        (0..<n).map { _ in T(normal() * std) }
    }

    /// Fisher–Yates shuffle driven by this generator (Swift's `shuffle(using:)` algorithm is unspecified).
    public mutating func shuffle<E>(_ a: inout [E]) {
        if a.count < 2 { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = below(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
