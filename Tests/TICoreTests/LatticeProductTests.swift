// The exact lattice product P̂·V̂ and O's exactly rounded input (TIQuant/LatticeProduct.swift,
// LatticeRounding.swift, ContextQuantization.swift) against independent references: a hand-built
// tie, and brute force — Int64 sums, Int128 rationals for the tie rule, the clip and the mask, and
// the standard library's UInt128 → float conversion for the correctly rounded context.
import XCTest
import TICore
import TILinalg

final class LatticeProductTests: XCTestCase {
    /// A tie the float GEMM rounds the wrong way. S = P·V with P = [[127, 127], [68, 106]],
    /// V = [[127, −122], [−51, 59]] gives S[1][0] = 3230 and M = 9652, so 127·S/M = 42.5 exactly.
    /// In Float the context of that entry, p̂·v̂ summed, times 127/max lands above 42.5: round → 43.
    /// The exact rule rounds half to even: 42.
    func testHandBuiltTieRoundsHalfToEvenWhereTheFloatGEMMRoundsUp() {
        let stepP = Float(0.6804549098014832) / 127, stepV = Float(1.2557777166366577) / 127
        let p: [Float] = [127, 127, 68, 106], v: [Float] = [127, -122, -51, 59]
        let pq = p.map { $0 * stepP }, vq = v.map { $0 * stepV }
        // The float route as a GEMM computes it (products, then their sum, in Float) and the quantizer.
        var context = [Float](repeating: 0, count: 4)
        for i in 0..<2 { for j in 0..<2 { context[i * 2 + j] = pq[i * 2] * vq[j] + pq[i * 2 + 1] * vq[2 + j] } }
        var floatOut = [Float](repeating: 0, count: 4), mask = [Float](repeating: 0, count: 4)
        ActivationQuantizer.symmetricDynamic(context, count: 4, bits: 8, clip: 2.5, out: &floatOut, mask: &mask)
        let floatStep = context.map(abs).max()! / 127
        XCTAssertEqual((floatOut[2] / floatStep).rounded(), 43, "the float route should round this tie up")

        let lattice = LatticeProduct(probs: LatticeOperand(codes: Buffer(p), step: stepP, qmax: 127),
                                     values: LatticeOperand(codes: Buffer(v), step: stepV, qmax: 127),
                                     batch: 1, heads: 1, seq: 2, hidden: 2)!
        lattice.multiply(batch: 0, head: 0)
        XCTAssertEqual((0..<4).map { lattice.sums[$0] }, [9652, -8001, 3230, -2042])
        let quant = ActivationQuantization<Float>(config: .ternaryW8A8)
        let (out, _, _) = quant.applyToLinearInput(.contextInput, lattice.context, lattice: lattice)
        let step = lattice.context.array.map(abs).max()! / 127
        XCTAssertEqual(out[2], 42 * step, "the exact rule rounds 42.5 half to even")
        XCTAssertEqual(out[0], 127 * step)
    }

    func testRandomLatticesMatchBruteForceRationalsInFloat() { randomLattices(Float.self, seed: 11) }
    func testRandomLatticesMatchBruteForceRationalsInDouble() { randomLattices(Double.self, seed: 12) }

    /// Random codes and steps; a third of the cases scale V so that σ·M can pass the clip 2.5, and a
    /// third plant exact ties at 62.5 and 63.5 (which half-up rounding would get half right).
    func randomLattices<T: BLASScalar>(_: T.Type, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let (b, nh, tt, h) = (2, 2, 5, 6), hd = h / nh
        var clipped = 0, ties = 0
        for trial in 0..<60 {
            let planted = trial % 3 == 2
            var p = (0..<(b * nh * tt * tt)).map { _ in T(Int.random(in: 0...(planted ? 100 : 127), using: &rng)) }
            var v = (0..<(b * tt * h)).map { _ in T(Int.random(in: -127...127, using: &rng)) }
            if planted {
                // Block (0, 0): P rows 0 and 1 all 126 and 63; V's columns sum to 508, 250 and 0, so
                // M = S[0][0] = 126·508 (every other |S| ≤ 100·127·5), S[0][1]: 127·250/508 = 62.5 and
                // S[1][0] = M/2: 63.5. One tie rounds down to even, one up.
                let column0: [T] = [127, 127, 127, 127, 0], column1: [T] = [127, 123, 0, 0, 0]
                for l in 0..<tt { p[l] = 126; p[tt + l] = 63; v[l * h] = column0[l]; v[l * h + 1] = column1[l]; v[l * h + 2] = 0 }
            }
            // Double: odd trials take steps with 53-bit mantissas, which only the sums and the rounded
            // context are checked on (the Int128 rationals of the tie rule need ≤ 24-bit mantissas).
            let full = T.self == Double.self && trial % 2 == 1
            func step(_ r: Double) -> T { full ? T(r / 127) : T(Float(r / 127)) }
            let stepP = step(Double.random(in: 0.2...1, using: &rng))
            let stepV = step(Double.random(in: 0.05...(trial % 3 == 1 ? 40 : 2.5), using: &rng))
            let lattice = LatticeProduct(probs: LatticeOperand(codes: Buffer(p), step: stepP, qmax: 127),
                                         values: LatticeOperand(codes: Buffer(v), step: stepV, qmax: 127),
                                         batch: b, heads: nh, seq: tt, hidden: h)!
            for bi in 0..<b { for head in 0..<nh { lattice.multiply(batch: bi, head: head) } }
            let s = BruteForce.sums(p, v, batch: b, heads: nh, seq: tt, hidden: h)
            XCTAssertEqual((0..<s.count).map { lattice.sums[$0] }, s, "trial \(trial): integer sums")
            for (i, x) in s.enumerated() {
                XCTAssertEqual(lattice.context[i], BruteForce.rounded(stepP, stepV, x), "trial \(trial): σ·S correctly rounded at \(i)")
            }
            if full { continue }
            let reference = BruteForce.quantized(stepP, stepV, sums: s, clip: 2.5)
            let quant = ActivationQuantization<T>(config: .ternaryW8A8)
            let (out, mask, _) = quant.applyToLinearInput(.contextInput, lattice.context, lattice: lattice)
            XCTAssertEqual(out.array, reference.out, "trial \(trial): O's input")
            XCTAssertEqual(mask?.mask.array, reference.mask, "trial \(trial): STE mask")
            clipped += reference.clipped ? 1 : 0
            ties += reference.ties
        }
        XCTAssertGreaterThan(clipped, 5, "the clipped branch should be exercised")
        XCTAssertGreaterThan(ties, 5, "exact ties should be exercised")
    }

    /// The Float context by way of Double (`roundedQuickly`) against the exact 192-bit route, on
    /// random steps and sums: wide sums, sums of a few bits (whose products are exact, so Float
    /// midpoints are real ties there) and sums right at σ-multiples of Float midpoints.
    func testFloatContextByWayOfDoubleEqualsTheExactRounding() {
        var rng = SeededRandom(seed: 21)
        var checked = 0, midpoints = 0
        for round in 0..<400 {
            // Every other round, steps of 8 significant bits: their products with s of 23 bits have
            // at most 31, and often are exactly a Float midpoint (a true tie).
            let short = { (r: inout SeededRandom) in Float(Int(r.uniform() * 128) + 128) / 32768 }
            let stepP = round % 2 == 0 ? Float(rng.uniform() + 0.5) / 127 : short(&rng)
            let stepV = round % 2 == 0 ? Float(rng.uniform() + 0.5) / 127 : short(&rng)
            let op = { (step: Float) in LatticeOperand(codes: Buffer<Float>([1]), step: step, qmax: 127) }
            let lattice = LatticeProduct(probs: op(stepP), values: op(stepV), batch: 1, heads: 1, seq: 1, hidden: 1)!
            let sigma = Double(stepP) * Double(stepV)
            for k in 0..<200 {
                let s: Int64
                switch k % 3 {
                case 0: s = Int64(rng.uniform() * Double(1 << 40)) - (1 << 39)
                case 1: s = round % 2 == 0 ? Int64(rng.uniform() * 64) - 32 : Int64(rng.uniform() * Double(1 << 22)) + (1 << 22)
                default:
                    // σ·s near a Float midpoint m = (f + ½ ulp): s = round(m/σ).
                    let f = Float(rng.uniform() * 1e3 + 1)
                    let m = Double(f) + Double(f.ulp) / 2
                    s = Int64((m / sigma).rounded())
                    if (sigma * Double(s)).bitPattern & ((1 << 29) - 1) == 1 << 28 { midpoints += 1 }
                }
                XCTAssertEqual(lattice.roundedQuickly(s), lattice.rounded(s), "σ = \(sigma), s = \(s)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 80_000)
        XCTAssertGreaterThan(midpoints, 0, "some products should land on a Float midpoint and take the exact route")
    }

    func testExactDyadicComparesProductsExactly() {
        // 0.1f·3 is not 0.3f exactly, and 0.5·6 is 3.
        XCTAssertNotEqual(ExactDyadic.compare(ExactDyadic.product([Float(0.1)], [3]), ExactDyadic(Float(0.3))), 0)
        XCTAssertEqual(ExactDyadic.compare(ExactDyadic.product([0.5], [6]), ExactDyadic(integer: 3)), 0)
        // (1 + 2⁻⁵²)² = 1 + 2⁻⁵¹ + 2⁻¹⁰⁴: above 1 + 2⁻⁵¹, which its Double product rounds to.
        let a = 1 + Double.ulpOfOne
        XCTAssertEqual(ExactDyadic.compare(ExactDyadic(a) * ExactDyadic(a), ExactDyadic(a * a)), 1)
        XCTAssertEqual(ExactDyadic.compare(ExactDyadic(-2.0), ExactDyadic(integer: -3)), 1)
    }
}

/// Independent references: Int64 loops, Int128 rationals, UInt128 → float conversion.
enum BruteForce {
    static func sums<T: BLASScalar>(_ p: [T], _ v: [T], batch: Int, heads: Int, seq tt: Int, hidden h: Int) -> [Int64] {
        let hd = h / heads
        var s = [Int64](repeating: 0, count: batch * tt * h)
        for b in 0..<batch { for head in 0..<heads { for i in 0..<tt { for j in 0..<hd {
            var acc: Int64 = 0
            for l in 0..<tt { acc += Int64(p[(b * heads + head) * tt * tt + i * tt + l]) * Int64(v[b * tt * h + l * h + head * hd + j]) }
            s[b * tt * h + i * h + head * hd + j] = acc
        } } } }
        return s
    }

    /// x = odd·2^e exactly.
    static func dyadic<T: BLASScalar>(_ x: T) -> (Int128, Int) {
        var m = Int128(x.significandBitPattern) | (Int128(1) << T.significandBitCount), e = Int(x.exponent) - T.significandBitCount
        while m & 1 == 0 { m >>= 1; e += 1 }
        return (m, e)
    }

    /// stepP·stepV·s correctly rounded, by the standard library's UInt128 conversion.
    static func rounded<T: BLASScalar>(_ a: T, _ b: T, _ s: Int64) -> T {
        let (ma, ea) = dyadic(a), (mb, eb) = dyadic(b)
        let r = T(UInt128(ma) * UInt128(mb) * UInt128(s.magnitude)) * T(sign: .plus, exponent: T.Exponent(ea + eb), significand: 1)
        return s < 0 ? -r : r
    }

    /// y = σ·|s|·127/c as the fraction num/den of Int128s (c = 2.5 = 5/2).
    static func y<T: BLASScalar>(_ a: T, _ b: T, _ s: Int64) -> (Int128, Int128) {
        let (ma, ea) = dyadic(a), (mb, eb) = dyadic(b), e = ea + eb
        let n = ma * mb * Int128(s.magnitude) * 127 * 2
        return e >= 0 ? (n << e, 5) : (n, Int128(5) << -e)
    }

    static func roundHalfEven(_ num: Int128, _ den: Int128) -> (Int128, Bool) {
        let k = num / den, r = num % den
        let tie = 2 * r == den
        return (k + (2 * r > den || (tie && k % 2 == 1) ? 1 : 0), tie)
    }

    /// The dynamic symmetric 8-bit quantizer with clip 2.5 on σ·S by the exact rule, by definition.
    static func quantized<T: BLASScalar>(_ a: T, _ b: T, sums: [Int64], clip: Double) -> (out: [T], mask: [T], clipped: Bool, ties: Int) {
        let m = sums.map { $0.magnitude }.max()!
        let (nm, dm) = y(a, b, Int64(m))
        let clipped = nm > 127 * dm
        let step = (clipped ? T(clip) : rounded(a, b, Int64(m))) / 127
        var out: [T] = [], mask: [T] = [], ties = 0
        for s in sums {
            let (num, den) = clipped ? y(a, b, s) : (127 * Int128(s.magnitude), Int128(m))
            var (k, tie) = roundHalfEven(num, den)
            if num >= 127 * den { (k, tie) = (127, false) }
            ties += tie ? 1 : 0
            out.append(T(Int(s < 0 ? -k : k)) * step)
            let (ny, dy) = y(a, b, s)
            mask.append(ny < 127 * dy ? 1 : 0)
        }
        return (out, mask, clipped, ties)
    }
}
