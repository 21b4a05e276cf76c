// What this machine can give a command: physical memory, lowered by a cgroup limit (containers,
// SLURM) and the address-space limit (ulimit -v) when those are smaller. Commands compare their
// estimate with it before allocating, so a config or option that cannot fit is refused with the
// estimate instead of growing until the kernel kills the process.
import Foundation

public enum MemoryBudget {
    /// Bytes available to this process at most (never 0: unknown limits count as unlimited).
    public static var machineBytes: Double {
        var limits: [Double] = [Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))]
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let s = try? String(contentsOfFile: path, encoding: .utf8),
               let v = Double(s.trimmingCharacters(in: .whitespacesAndNewlines)), v > 0 { limits.append(v) }
        }
        var r = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &r) == 0, r.rlim_cur != rlim_t.max { limits.append(Double(r.rlim_cur)) }
        return limits.filter { $0 > 0 }.min() ?? .infinity
    }

    /// "512 MB", "3.1 PB": bytes in powers of 1000, three significant digits.
    public static func format(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "more than can be counted" }
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
        var v = bytes, i = 0
        while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
        return i == 0 ? "\(Int(v)) B" : String(format: v < 10 ? "%.2f %@" : v < 100 ? "%.1f %@" : "%.0f %@", v, units[i])
    }

    /// Refuses when `bytes` exceeds what the machine has; `subject` says what needs it, `file` where
    /// it comes from, `advice` what would make it fit.
    public static func require(_ bytes: Double, for subject: String, file: String, advice: String? = nil) throws {
        let have = machineBytes
        guard bytes <= have else {
            throw DataError.tooLarge(file: file, reason: "\(subject) needs an estimated \(format(bytes)) of memory, this machine has \(format(have))"
                                     + (advice.map { "; \($0)" } ?? ""))
        }
    }
}
