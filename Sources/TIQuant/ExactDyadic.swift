// Exact arithmetic on products of floating-point numbers and integers: every finite float is an
// integer times a power of two, and so is every product of them. The lattice product's next
// quantizer (LatticeRounding.swift) takes a handful of decisions per tensor on such products — is
// the range clipped, where do the rounding boundaries fall in integer sums — that must not depend on
// how a float expression rounds. Arbitrary length, so Double steps (53-bit mantissas) multiplied
// together and by sums and codes never overflow; meant for O(2^bits) decisions per tensor, not for
// loops over entries.

/// ±magnitude·2^exponent, the magnitude a little-endian array of 64-bit limbs.
public struct ExactDyadic: Equatable, Sendable {
    public private(set) var limbs: [UInt64]
    public private(set) var exponent: Int
    public private(set) var negative: Bool

    public init(integer: Int64) {
        limbs = [integer.magnitude]
        exponent = 0
        negative = integer < 0
        normalize()
    }

    /// A finite float exactly (subnormals included).
    public init<T: BinaryFloatingPoint>(_ x: T) where T.RawSignificand: FixedWidthInteger {
        precondition(x.isFinite, "ExactDyadic: \(x) is not finite")
        let implicit: UInt64 = x.isNormal ? 1 << UInt64(T.significandBitCount) : 0
        limbs = [UInt64(truncatingIfNeeded: x.significandBitPattern) | implicit]
        exponent = Int(x.isNormal ? x.exponent : T.leastNormalMagnitude.exponent) - T.significandBitCount
        negative = x.sign == .minus
        normalize()
    }

    public var isZero: Bool { limbs.isEmpty }

    /// The exact product.
    public static func * (a: ExactDyadic, b: ExactDyadic) -> ExactDyadic {
        var out = [UInt64](repeating: 0, count: a.limbs.count + b.limbs.count)
        for (i, x) in a.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.limbs.enumerated() {
                let (hi, lo) = x.multipliedFullWidth(by: y)
                let (s1, c1) = out[i + j].addingReportingOverflow(lo)
                let (s2, c2) = s1.addingReportingOverflow(carry)
                out[i + j] = s2
                carry = hi &+ (c1 ? 1 : 0) &+ (c2 ? 1 : 0)  // hi ≤ 2^64 − 2, so no wrap
            }
            out[i + b.limbs.count] = carry
        }
        var r = a
        r.limbs = out
        r.exponent = a.exponent + b.exponent
        r.negative = a.negative != b.negative
        r.normalize()
        return r
    }

    /// −1, 0 or 1 as a < b, a = b, a > b (exactly).
    public static func compare(_ a: ExactDyadic, _ b: ExactDyadic) -> Int {
        if a.isZero && b.isZero { return 0 }
        let sa = a.isZero ? 0 : (a.negative ? -1 : 1), sb = b.isZero ? 0 : (b.negative ? -1 : 1)
        if sa != sb { return sa < sb ? -1 : 1 }
        let m = compareMagnitudes(a, b)
        return sa < 0 ? -m : m
    }

    static func compareMagnitudes(_ a: ExactDyadic, _ b: ExactDyadic) -> Int {
        // Bring both to the smaller exponent: shifting left is exact.
        let e = min(a.exponent, b.exponent)
        let x = shiftedLeft(a.limbs, by: a.exponent - e), y = shiftedLeft(b.limbs, by: b.exponent - e)
        if x.count != y.count { return x.count < y.count ? -1 : 1 }
        for i in stride(from: x.count - 1, through: 0, by: -1) where x[i] != y[i] { return x[i] < y[i] ? -1 : 1 }
        return 0
    }

    static func shiftedLeft(_ v: [UInt64], by bits: Int) -> [UInt64] {
        guard bits > 0, !v.isEmpty else { return v }
        let whole = bits / 64, part = UInt64(bits % 64)
        var out = [UInt64](repeating: 0, count: whole) + v + [0]
        if part > 0 {
            for i in stride(from: out.count - 1, to: whole, by: -1) { out[i] = (out[i] << part) | (out[i - 1] >> (64 - part)) }
            out[whole] = v[0] << part
        }
        while out.last == 0 { out.removeLast() }
        return out
    }

    /// No leading zero limbs, no trailing zero bits (so equal values compare by limbs), zero is [].
    private mutating func normalize() {
        while limbs.last == 0 { limbs.removeLast() }
        guard !limbs.isEmpty else { exponent = 0; negative = false; return }
        while limbs[0] == 0 { limbs.removeFirst(); exponent += 64 }
        let tz = limbs[0].trailingZeroBitCount
        if tz > 0 {
            for i in 0..<limbs.count {
                limbs[i] = (limbs[i] >> UInt64(tz)) | (i + 1 < limbs.count ? limbs[i + 1] << UInt64(64 - tz) : 0)
            }
            exponent += tz
            while limbs.last == 0 { limbs.removeLast() }
        }
    }
}

extension ExactDyadic {
    /// The product of floats and integers, exactly.
    public static func product<T: BinaryFloatingPoint>(_ floats: [T], _ integers: [Int64] = []) -> ExactDyadic
    where T.RawSignificand: FixedWidthInteger {
        var r = ExactDyadic(integer: 1)
        for f in floats { r = r * ExactDyadic(f) }
        for i in integers { r = r * ExactDyadic(integer: i) }
        return r
    }
}
