// Swift face of the int8 GEMM in CKernels (Int8GEMM.h holds the contract and the rounding).
import CKernels
import Foundation

public enum Int8GEMM {
    /// The kernel every `gemm` call uses unless told otherwise: TIANALYZE_INT8_KERNEL when set (the
    /// process stops with one line on stderr when this host cannot run it), else the fastest here.
    public static let kernel: Kernel = {
        switch Kernel.choose(override: ProcessInfo.processInfo.environment[Kernel.environmentKey]) {
        case .success(let k): return k
        case .failure(let refusal):
            FileHandle.standardError.write(Data((refusal.message + "\n").utf8))
            exit(2)
        }
    }()

    /// The picked kernel's name: "scalar", "avx2", "avxvnni", "avx512vnni" or "amx".
    public static var kernelName: String { kernel.name }

    /// Whether the int8 route pays off here, i.e. the Linear layers should use it by default: a
    /// vector kernel (AVX2 or better) is picked, or a kernel was asked for by name. The scalar kernel
    /// alone is several times slower than the float GEMM, so without AVX2 the route stays off.
    public static let isAvailable: Bool = kernel != .scalar
        || ProcessInfo.processInfo.environment[Kernel.environmentKey] != nil

    /// An n × k weight matrix (row-major, out × in) packed for `gemm`. Immutable, so a value:
    /// copies share one 64-byte aligned buffer (misaligned tile rows straddle cache lines: tile
    /// loads ran 2× slower in a micro-benchmark, a whole GEMM with A and W misaligned 1.4×).
    public struct PackedWeight: Sendable {
        public let n: Int
        public let k: Int
        fileprivate let storage: Storage

        /// Packs w[j·ldw + p] for j < n, p < k.
        public init(_ w: UnsafePointer<Int8>, n: Int, k: Int, ldw: Int) {
            precondition(n >= 1 && k >= 1 && ldw >= k, "Int8GEMM.PackedWeight: need n, k ≥ 1 and ldw ≥ k")
            self.n = n
            self.k = k
            storage = Storage(bytes: tia_i8_packed_weight_size(n, k))
            tia_i8_pack_weight(w, n, k, ldw, storage.pointer)
        }

        /// Packs w, n rows of k codes (ldw ≥ k when given).
        public init(_ w: [Int8], n: Int, k: Int, ldw: Int? = nil) {
            let ldw = ldw ?? k
            precondition(w.count >= (n - 1) * ldw + k, "Int8GEMM.PackedWeight: \(w.count) codes for \(n) × \(k), ldw \(ldw)")
            self = w.withUnsafeBufferPointer { PackedWeight($0.baseAddress!, n: n, k: k, ldw: ldw) }
        }

        /// Size of the packed form: n rounded up to 32 times k rounded up to 64, and the trailer
        /// (column sums and max |w|, 4 bytes per rounded-up column + 64).
        public static func byteCount(n: Int, k: Int) -> Int { tia_i8_packed_weight_size(n, k) }

        /// The packed bytes (layout in Int8GEMM.h), e.g. to check or store them.
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try body(UnsafeRawBufferPointer(start: storage.pointer, count: Self.byteCount(n: n, k: k)))
        }
    }

    fileprivate final class Storage: @unchecked Sendable {  // written only during PackedWeight.init
        let pointer: UnsafeMutablePointer<Int8>
        init(bytes: Int) {
            var raw: UnsafeMutableRawPointer?
            precondition(posix_memalign(&raw, 64, bytes) == 0, "Int8GEMM: cannot allocate \(bytes) bytes")
            pointer = raw!.bindMemory(to: Int8.self, capacity: bytes)
        }
        deinit { free(pointer) }
    }

    /// c[i·ldc + j] = Float(acc)·scale (+ bias[j]), acc = Σ_p a[i·lda + p]·w[j][p] exactly in Int32,
    /// for i < m, j < weight.n, by `kernel` (which must be available here). The same bits whichever
    /// kernel runs. Safe to call from several threads at once.
    public static func gemm(m: Int, a: UnsafePointer<Int8>, lda: Int, weight: PackedWeight, scale: Float,
                            bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int,
                            kernel: Kernel = Int8GEMM.kernel) {
        precondition(kernel.isAvailable, "Int8GEMM.gemm: this CPU cannot run the \(kernel.name) kernel")
        precondition(m >= 0 && lda >= weight.k && ldc >= weight.n, "Int8GEMM.gemm: bad m, lda or ldc")
        tia_i8_gemm_f32(kernel.rawValue, m, weight.n, weight.k, a, lda, weight.storage.pointer, scale, bias, c, ldc)
        withExtendedLifetime(weight) {}
    }

    /// The same values by plain loops over the unpacked w (row stride ldw), on any CPU.
    public static func reference(m: Int, n: Int, k: Int, a: UnsafePointer<Int8>, lda: Int, w: UnsafePointer<Int8>,
                                 ldw: Int, scale: Float, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>,
                                 ldc: Int) {
        precondition(m >= 0 && n >= 1 && k >= 1 && lda >= k && ldw >= k && ldc >= n, "Int8GEMM.reference: bad shape")
        tia_i8_gemm_f32_reference(m, n, k, a, lda, w, ldw, scale, bias, c, ldc)
    }
}
