// Two levels of parallelism share one thread budget (`--threads`). Across items (`map`: batches of
// an objective, grid points, per-example spectra, the teacher's and the student's forward) workers
// take whole items; within an item (`forEach`, `Parallel.gemm`, the row-wise kernels) a kernel
// splits its own work. A map over k items on a budget of N threads runs min(k, N) workers and gives
// each ⌊N / workers⌋ threads for the kernels inside its items, so a large dev set is split across
// items and a single QAT step across the kernels of that step, without the user choosing.
//
// Results never depend on the budget: map combines in item order, forEach items write disjoint
// outputs, and where a kernel splits a reduction (a GEMM's blocks) the split is a function of the
// shape alone (see GEMMBlocks), never of the thread count.
import CKernels
import Foundation

public enum Parallel {
    /// The process-wide thread budget; set once from the CLI (`--threads`).
    nonisolated(unsafe) public static var workers = 1

    /// Threads the calling thread may use: its share inside a map's item, else the process budget.
    public static var budget: Int {
        let own = Int(tia_thread_budget())
        return own > 0 ? own : max(1, workers)
    }

    /// `body(i)` for i in 0..<count, on up to `budget` threads, results in index order.
    public static func map<R>(_ count: Int, _ body: (Int) -> R) -> [R] {
        let total = budget
        let threads = min(total, count)
        if count <= 1 { return (0..<count).map(body) }
        return region {
            if threads <= 1 { return (0..<count).map(body) }
            let slots = UnsafeMutablePointer<R?>.allocate(capacity: count)
            slots.initialize(repeating: nil, count: count)
            defer { slots.deinitialize(count: count); slots.deallocate() }
            let share = Int32(max(1, total / threads))
            run(items: count, threads: threads) { i in
                let previous = tia_set_thread_budget(share)
                slots[i] = body(i)
                tia_set_thread_budget(previous)
            }
            return (0..<count).map { slots[$0]! }
        }
    }

    /// `body(i)` for i in 0..<count on up to `budget` threads, for items that write disjoint
    /// outputs; inside an item the budget is 1. Serial when `count · costPerItem` is below
    /// `minimumWork` (in the caller's unit, e.g. multiply-adds), where waking threads costs more.
    public static func forEach(_ count: Int, costPerItem: Double = .infinity, minimumWork: Double = 0,
                               _ body: (Int) -> Void) {
        if count <= 1 || Double(count) * costPerItem < minimumWork {
            for i in 0..<count { body(i) }
            return
        }
        region {
            let threads = min(budget, count)
            if threads <= 1 { for i in 0..<count { body(i) }; return }
            run(items: count, threads: threads) { i in
                let previous = tia_set_thread_budget(1)
                body(i)
                tia_set_thread_budget(previous)
            }
        }
    }

    /// Wall nanoseconds spent in splittable work (map and forEach calls that split, whether or not
    /// the budget let them run in parallel), outermost calls only. On one thread, its share of a
    /// unit's time is the parallel fraction 1 − f of Amdahl's law, measured rather than inferred.
    public static var splittableNanoseconds: Int { tia_parallel_profile_total() }
    public static func resetSplittableTime() { tia_parallel_profile_reset() }

    private static func region<R>(_ work: () -> R) -> R {
        let outermost = tia_enter_parallel_region() == 0
        defer { tia_leave_parallel_region() }
        guard outermost else { return work() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { tia_parallel_profile_add(Int(DispatchTime.now().uptimeNanoseconds - start)) }
        return work()
    }

    /// Row ranges of one row-wise kernel (softmax, LayerNorm, a quantizer): `body(range)` over
    /// consecutive blocks of at least `minimumRows` rows and about `width · rows ≥ 16384` values,
    /// so small tensors stay on one thread. Rows must be independent.
    public static func rows(_ count: Int, width: Int, minimumRows: Int = 8, _ body: (Range<Int>) -> Void) {
        let perBlock = max(minimumRows, 16384 / max(1, width))
        let blocks = (count + perBlock - 1) / perBlock
        if blocks <= 1 { body(0..<count); return }
        forEach(blocks) { b in body((b * perBlock)..<min(count, (b + 1) * perBlock)) }
    }

    /// Items handed out one at a time, not striped: the vCPUs of a shared machine often run
    /// 10–15 % apart, and with a fixed split every call would wait for the slowest.
    private static func run(items count: Int, threads: Int, _ item: (Int) -> Void) {
        let next = ItemCounter()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            // Workers count as inside the caller's region, so their own regions are not timed twice.
            tia_enter_parallel_region()
            defer { tia_leave_parallel_region() }
            while let i = next.take(below: count) { item(i) }
        }
    }
}

/// The next unclaimed item index, shared by the workers of one parallel call.
private final class ItemCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func take(below count: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
