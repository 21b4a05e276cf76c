// The integer form of an 8-bit quantized Linear input, for the int8 GEMM.
//
// A symmetric 8-bit quantizer puts x̂ on the lattice codes·step, and a TWN-ternary weight matrix is
// α·{−1, 0, 1}. Their product is then an exact integer sum times step·α, which the int8 kernels
// (AMX tiles, VNNI or AVX2 byte products; Int8GEMM.kernelName says which) compute in int32 faster
// than a float GEMM multiplies the rounded floats. The result differs from the
// float GEMM only by float rounding (it is the closer of the two to the exact product), so the
// path is a speed choice, not a semantic one: `Int8Path.enabled` switches it off for comparisons.
import Foundation
import TILinalg

/// x̂ = codes·step exactly as the quantizer rounded it ([rows, width], row-major).
public struct Int8Lattice {
    public var codes: [Int8]
    public var step: Float
    /// Integer inference (IntegerLinears.swift): the int8 layers the codes may be multiplied by. Such
    /// codes come from a frozen range, x̂ = code/s, which code·step matches only up to an ulp, so
    /// Linear gives them to those layers alone (any other layer runs the float GEMM on x̂).
    public var linears: IntegerLinears? = nil
}

public enum Int8Path {
    /// On when an int8 kernel faster than the float GEMM runs here (AVX2 or better, or one named by
    /// TIANALYZE_INT8_KERNEL; see Int8GEMM.isAvailable) and TIANALYZE_INT8 is not "0".
    nonisolated(unsafe) public static var enabled: Bool = Int8GEMM.isAvailable
        && ProcessInfo.processInfo.environment["TIANALYZE_INT8"] != "0"
}

extension ActivationQuantization {
    /// `apply` for the input of a Linear layer: also returns the int8 codes when the int8 GEMM can
    /// take them (Float, a dynamic symmetric quantizer of ≤ 8 bits, no recording or replay, no
    /// inspector). The quantized values and the mask are exactly those `apply` gives.
    public func applyToLinearInput(_ site: ActivationSite, _ x: Buffer<T>) -> (Buffer<T>, STEMask<T>?, Int8Lattice?) {
        if let integer = applyWithFrozenRangeCodes(site, x) { return integer }
        guard Int8Path.enabled, T.self == Float.self, frozen == nil, inspector == nil,
              case .symmetric(let bits, let clip)? = config.activations[site], bits <= 8
        else {
            let (out, mask) = apply(site, x)
            return (out, mask, nil)
        }
        let n = x.count
        let out = Buffer<T>(uninitialized: n)
        let mask = keepsMasks ? Buffer<T>(uninitialized: n) : nil
        var codes = [Int8](repeating: 0, count: n)
        let step = codes.withUnsafeMutableBufferPointer { c in
            ActivationQuantizer.symmetricDynamicCodes(FloatKernels.f(UnsafePointer(x.p)), count: n, bits: bits, clip: clip,
                                                      out: FloatKernels.f(out.p), mask: mask.map { FloatKernels.f($0.p) },
                                                      codes: c.baseAddress!, across: statistics)
        }
        // A NaN or unclipped ±∞ keeps the float route, so that it reaches the loss and stops training.
        return (out, mask.map { STEMask($0) }, step.map { Int8Lattice(codes: codes, step: $0) })
    }
}
