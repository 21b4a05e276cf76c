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
        // Items are handed out one at a time, not striped: the two vCPUs of this kind of machine often
        // run 10–15 % apart, and with a fixed split every call would wait for the slower one.
        let next = ItemCounter()
        DispatchQueue.concurrentPerform(iterations: min(workers, count)) { _ in
            while let i = next.take(below: count) { slots[i] = body(i) }
        }
        return (0..<count).map { slots[$0]! }
    }
}

/// The next unclaimed item index, shared by the workers of one `Parallel.map`.
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
