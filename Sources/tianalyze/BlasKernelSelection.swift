// OpenBLAS 0.3.21 (Debian 12) does not recognize some current AVX-512 Xeons and falls back to its
// SSE3 "Prescott" kernels, about 5× slower at our shapes. The core type is read from the
// environment when the library loads, before main, so tianalyze re-executes itself once with
// OPENBLAS_CORETYPE=SkylakeX on such CPUs. An explicitly set OPENBLAS_CORETYPE always wins, and
// TIANALYZE_KEEP_BLAS_CORE=1 disables the re-exec. Linux only: the CPU flags come from
// /proc/cpuinfo and the re-exec goes through /proc/self/exe; elsewhere this does nothing.
import Foundation

enum BlasKernelSelection {
    static func reexecWithAVX512KernelsIfNeeded() {
        #if os(Linux)
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["TIANALYZE_KEEP_BLAS_CORE"] == nil else { return }
        guard let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = cpu.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        guard ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        // Idle OpenBLAS workers otherwise spin in sched_yield between our many small calls and
        // steal the core the elementwise kernels run on.
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil { setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) }
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", &cargs)
        // execv only returns on failure: carry on with the kernels already loaded.
        unsetenv("OPENBLAS_CORETYPE")
        #endif
    }
}
