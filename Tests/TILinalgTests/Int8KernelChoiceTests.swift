// Which int8 kernel runs: detection, the automatic choice and the TIANALYZE_INT8_KERNEL override.
import Foundation
import XCTest
import TILinalg

final class Int8KernelChoiceTests: XCTestCase {
    func testScalarAlwaysRunsAndAVX2IsSeenWhereTheCPUHasIt() {
        XCTAssertTrue(Int8GEMM.Kernel.scalar.isAvailable)
        XCTAssertEqual(Int8GEMM.Kernel.available.first, .scalar)
        // /proc/cpuinfo's flags, an independent reading of CPUID made by the kernel.
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(flagsLine.split(separator: ":")[1].split(separator: " ").map(String.init))
            XCTAssertEqual(Int8GEMM.Kernel.avx2.isAvailable, flags.contains("avx2"))
            XCTAssertEqual(Int8GEMM.Kernel.avx512vnni.isAvailable,
                           flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"]))
            XCTAssertEqual(Int8GEMM.Kernel.avxvnni.isAvailable, flags.contains("avx_vnni"))
            if !flags.contains("amx_int8") { XCTAssertFalse(Int8GEMM.Kernel.amx.isAvailable) }
        }
    }

    func testTheFastestAvailableKernelIsPickedWithoutAnOverride() throws {
        XCTAssertEqual(try Int8GEMM.Kernel.choose(override: nil).get(), Int8GEMM.Kernel.available.last)
        if ProcessInfo.processInfo.environment[Int8GEMM.Kernel.environmentKey] == nil {
            XCTAssertEqual(Int8GEMM.kernel, Int8GEMM.Kernel.available.last)
            XCTAssertEqual(Int8GEMM.kernelName, Int8GEMM.Kernel.available.last!.name)
            XCTAssertEqual(Int8GEMM.isAvailable, Int8GEMM.kernel != .scalar, "the route is on with a vector kernel only")
        }
        XCTAssertEqual(Int8GEMM.Kernel.allCases.map(\.name), ["scalar", "avx2", "avxvnni", "avx512vnni", "amx"])
    }

    func testAnOverrideNamesAnAvailableKernelOrIsRefusedInOneLine() throws {
        for kernel in Int8GEMM.Kernel.available {
            XCTAssertEqual(try Int8GEMM.Kernel.choose(override: kernel.name).get(), kernel)
        }
        let key = Int8GEMM.Kernel.environmentKey
        XCTAssertEqual(Int8GEMM.Kernel.choose(override: "sse9"),
                       .failure(Int8GEMM.Refusal(message: "\(key)=sse9: expected one of scalar, avx2, avxvnni, avx512vnni, amx")))
        for kernel in Int8GEMM.Kernel.allCases where !kernel.isAvailable {
            guard case .failure(let refusal) = Int8GEMM.Kernel.choose(override: kernel.name) else {
                return XCTFail("\(kernel.name) is not available but was accepted")
            }
            XCTAssertTrue(refusal.message.hasPrefix("\(key)=\(kernel.name): this CPU/OS cannot run it (available: scalar"),
                          refusal.message)
            XCTAssertFalse(refusal.message.contains("\n"))
        }
    }
}
