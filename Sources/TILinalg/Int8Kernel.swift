// Which int8 GEMM kernel runs: the ones this CPU can execute, and the choice among them, which
// TIANALYZE_INT8_KERNEL can pin for tests and measurements.
import CKernels

extension Int8GEMM {
    /// The kernels in CKernels (Int8GEMM.h), slowest first.
    public enum Kernel: Int32, CaseIterable, Sendable {
        case scalar = 0, avx2, avxvnni, avx512vnni, amx

        /// The environment variable that names a kernel instead of the automatic choice.
        public static let environmentKey = "TIANALYZE_INT8_KERNEL"

        public var name: String { String(cString: tia_i8_kernel_name(rawValue)) }

        /// Whether this CPU and OS can run it (the scalar kernel always can).
        public var isAvailable: Bool { tia_i8_kernel_available(rawValue) != 0 }

        /// The kernels this host can run, slowest first.
        public static var available: [Kernel] { allCases.filter(\.isAvailable) }

        /// The named kernel when given (refused when unknown or not runnable here), else the fastest available.
        public static func choose(override name: String?) -> Result<Kernel, Refusal> {
            guard let name else { return .success(available.last!) }
            guard let k = allCases.first(where: { $0.name == name }) else {
                return .failure(Refusal(message: "\(environmentKey)=\(name): expected one of "
                    + allCases.map(\.name).joined(separator: ", ")))
            }
            guard k.isAvailable else {
                return .failure(Refusal(message: "\(environmentKey)=\(name): this CPU/OS cannot run it (available: "
                    + available.map(\.name).joined(separator: ", ") + ")"))
            }
            return .success(k)
        }
    }

    /// Why a named kernel was refused, as the one line printed before the process stops.
    public struct Refusal: Error, Equatable {
        public let message: String
        public init(message: String) { self.message = message }
    }
}
