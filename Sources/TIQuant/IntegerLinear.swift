// One Linear layer of an int8 model in integer arithmetic, as Intel's QuantizedLinear runs at
// inference: the input quantized to int8 codes with its frozen range, int8 codes × int8 weight codes
// summed in int32, the int32 bias (on the same grid, step_x·step_w) added to the sums, and the result
// dequantized once, y = (Σ_p x_p·w_jp + b_j)·step_x·step_w.
//
// The sums run through the int8 GEMM kernels (Int8GEMM), which return Float(acc)·scale: with scale 1
// and no bias that is the int32 sum itself, exact while |acc| ≤ 2^24, which `init` checks from the
// weights (127·Σ_p|w_jp| ≤ 2^24 for every column). The AVX2 kernel takes only |w| ≤ 64 (its int16
// pair sums saturate beyond), so there the codes are split as w = clamp(w, ±64) + rest, two products
// of |w| ≤ 64 summed in int32 — the AVX2 kernel runs rather than handing 8-bit weights to the scalar
// kernel. Columns too heavy for the float-exact bound take a plain int32 loop (`referenceSums`).
// Every route gives the same int32 sums, so the same bits on any kernel and any thread count.
import Foundation
import TILinalg

public struct IntegerLinear: Sendable {
    /// Output and input features: the weight is [outFeatures, inFeatures] as in PyTorch.
    public let outFeatures: Int
    public let inFeatures: Int
    /// int8 weight codes, row-major [out, in].
    public let weightCodes: [Int8]
    /// int32 bias codes on the accumulator grid, [out].
    public let biasCodes: [Int32]
    /// step_x: the input quantizer's step r/127 (the codes handed to `forward` must be on it).
    public let inputStep: Float
    /// step_x·step_w: the grid of the accumulator and bias, the one dequantization scale.
    public let outputStep: Float
    /// How the int32 sums are computed here.
    public let route: Route

    public enum Route: Sendable, CustomStringConvertible {
        /// Int8GEMM with this kernel over the packed parts whose products sum to W (one part, or two
        /// |w| ≤ 64 parts for AVX2).
        case kernel(Int8GEMM.Kernel, parts: [Int8GEMM.PackedWeight])
        /// Plain int32 loops: some column's sum can exceed 2^24, where Float(acc) stops being exact.
        case int32Loops

        public var description: String {
            switch self {
            case .kernel(let k, let parts): return parts.count > 1 ? "\(k.name) (w split into \(parts.count) parts of |w| ≤ 64)" : k.name
            case .int32Loops: return "int32 loops"
            }
        }
    }

    /// Largest |w| the AVX2 kernel takes (Int8GEMM.h).
    static let avx2WeightLimit = 64
    /// Largest |acc| whose Float conversion is exact.
    static let exactFloatInteger = 1 << 24
    /// Largest |x| code of an 8-bit symmetric quantizer.
    static let maxInputCode = 127

    /// Throws `IntegerLinear.Overflow` when the int32 sum plus bias could wrap for some input codes.
    public init(weightCodes: [Int8], outFeatures n: Int, inFeatures k: Int, biasCodes: [Int32], inputStep: Float,
                outputStep: Float, kernel: Int8GEMM.Kernel = Int8GEMM.kernel) throws {
        precondition(n >= 1 && k >= 1 && weightCodes.count == n * k && biasCodes.count == n,
                     "IntegerLinear: \(weightCodes.count) weight codes, \(biasCodes.count) bias codes for \(n) × \(k)")
        let bound = Self.accumulatorBound(weightCodes, outFeatures: n, inFeatures: k, biasCodes: biasCodes)
        guard bound <= Int64(Int32.max) else { throw Overflow(bound: bound) }
        self.outFeatures = n; self.inFeatures = k; self.weightCodes = weightCodes; self.biasCodes = biasCodes
        self.inputStep = inputStep; self.outputStep = outputStep
        let parts = kernel == .avx2 ? Self.splitForAVX2(weightCodes) : [weightCodes]
        let exact = parts.allSatisfy {
            Self.accumulatorBound($0, outFeatures: n, inFeatures: k, biasCodes: nil) <= Int64(Self.exactFloatInteger)
        }
        route = exact ? .kernel(kernel, parts: parts.map { Int8GEMM.PackedWeight($0, n: n, k: k) }) : .int32Loops
    }

    /// The int32 sum plus bias can wrap: the file's codes are not those of an 8-bit model of this width.
    public struct Overflow: Error, Equatable {
        public let bound: Int64
    }

    /// max_j (127·Σ_p |w_jp| + |b_j|): the largest |acc + b| any int8 input codes can give.
    public static func accumulatorBound(_ w: [Int8], outFeatures n: Int, inFeatures k: Int, biasCodes b: [Int32]?) -> Int64 {
        var worst: Int64 = 0
        for j in 0..<n {
            var s: Int64 = 0
            for p in 0..<k { s += Int64(abs(Int(w[j * k + p]))) }
            worst = max(worst, Int64(maxInputCode) * s + (b.map { Int64(abs(Int($0[j]))) } ?? 0))
        }
        return worst
    }

    /// w = clamp(w, ±64) + (w − clamp(w, ±64)): both parts within the AVX2 kernel's |w| ≤ 64 (one
    /// part when w already is).
    static func splitForAVX2(_ w: [Int8]) -> [[Int8]] {
        let limit = Int8(avx2WeightLimit)
        guard w.contains(where: { $0 > limit || $0 < -limit }) else { return [w] }
        let low = w.map { min(max($0, -limit), limit) }
        return [low, zip(w, low).map { $0 - $1 }]
    }

    /// y[i, j] = Float((Σ_p x[i, p]·w[j, p] + b[j])·outputStep), x the [rows, in] input codes on `inputStep`.
    /// Row blocks run on the thread budget; each entry is an exact integer, so any split gives the same bits.
    public func forward(_ x: UnsafePointer<Int8>, rows m: Int, y: UnsafeMutablePointer<Float>) {
        let n = outFeatures, k = inFeatures
        guard m > 0 else { return }
        let size = GEMMBlocks.blockSize(extent: m, work: m * n * k)
        Parallel.forEach((m + size - 1) / size) { block in
            let start = block * size, rows = min(size, m - start)
            let sums = self.sums(x + start * k, rows: rows)
            let scale = Double(outputStep)
            for i in 0..<rows * n { y[start * n + i] = Float(Double(sums[i]) * scale) }  // one rounding
        }
    }

    /// The [rows, out] int32 sums Σ_p x[i, p]·w[j, p] + b[j] by this layer's route.
    public func sums(_ x: UnsafePointer<Int8>, rows m: Int) -> [Int32] {
        guard case .kernel(let kernel, let parts) = route, m > 0 else { return referenceSums(x, rows: m) }
        let n = outFeatures, k = inFeatures
        var acc = [Int32](repeating: 0, count: m * n)
        var exact = [Float](repeating: 0, count: m * n)
        for part in parts {
            exact.withUnsafeMutableBufferPointer { c in
                Int8GEMM.gemm(m: m, a: x, lda: k, weight: part, scale: 1, bias: nil, c: c.baseAddress!, ldc: n, kernel: kernel)
            }
            for i in acc.indices { acc[i] += Int32(exact[i]) }  // |Float(acc)| ≤ 2^24: exact
        }
        for i in 0..<m { for j in 0..<n { acc[i * n + j] += biasCodes[j] } }
        return acc
    }

    /// The same sums by plain int32 loops over the unpacked codes (the definition the kernels must meet).
    public func referenceSums(_ x: UnsafePointer<Int8>, rows m: Int) -> [Int32] {
        let n = outFeatures, k = inFeatures
        var acc = [Int32](repeating: 0, count: m * n)
        weightCodes.withUnsafeBufferPointer { w in
            for i in 0..<m {
                for j in 0..<n {
                    var s = biasCodes[j]
                    for p in 0..<k { s += Int32(x[i * k + p]) * Int32(w[j * k + p]) }
                    acc[i * n + j] = s
                }
            }
        }
        return acc
    }
}
