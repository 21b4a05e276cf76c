// Coarse-grained parallelism over independent work items (batches of an objective, grid points,
// per-example spectra). On the small default model, two workers each running single-threaded
// BLAS beat one worker with two BLAS threads: the many small GEMMs and the elementwise kernels in
// between leave OpenBLAS's second thread mostly spinning. Results are combined in item order, so
// every reduction is deterministic whatever the worker count.
import Foundation

public enum Parallel {
    /// Worker threads for `map`; set once from the CLI (`--threads`).
    nonisolated(unsafe) public static var workers = 1

    /// `body(i)` for i in 0..<count, on up to `workers` threads, results in index order.
    public static func map<R>(_ count: Int, _ body: (Int) -> R) -> [R] {
        if workers <= 1 || count <= 1 { return (0..<count).map(body) }
        let slots = UnsafeMutablePointer<R?>.allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
        defer { slots.deinitialize(count: count); slots.deallocate() }
        let lanes = min(workers, count)
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            var i = lane
            while i < count {
                slots[i] = body(i)
                i += lanes
            }
        }
        return (0..<count).map { slots[$0]! }
    }
}
