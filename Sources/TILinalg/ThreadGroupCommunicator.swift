// R ranks as R threads of one process: the same collectives as the MPI back-end, so tests can run
// a data-parallel job under 1, 2 and 3 ranks and compare the results without launching mpirun.
import CKernels
import Foundation

/// Runs `body` once per rank on its own thread and returns the results in rank order. Each rank's
/// thread gets a budget of one thread (ranks are the unit of parallelism here, as processes are).
public enum ThreadGroup {
    public static func run<R>(ranks: Int, _ body: @escaping @Sendable (Communicator) throws -> R) throws -> [R] {
        precondition(ranks >= 1, "ThreadGroup: at least one rank")
        let done = DispatchGroup()
        let shared = ThreadGroupState(size: ranks, done: done)
        let results = ResultSlots<R>(count: ranks)
        for r in 0..<ranks {
            done.enter()
            let thread = Thread {
                let previous = tia_set_thread_budget(1)
                defer { tia_set_thread_budget(previous); done.leave() }
                let comm = ThreadGroupCommunicator(rank: r, state: shared, results: { results.set(r, .failure($0)) })
                do { results.set(r, .success(try body(comm))) } catch {
                    results.set(r, .failure(error))
                    shared.fail()
                }
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
        done.wait()
        return try results.values()
    }
}

/// `abort` called on a rank of a thread group: the message, as the MPI back-end would print it.
public struct RankAborted: Error, CustomStringConvertible {
    public let rank: Int
    public let message: String
    public var description: String { message }
}

/// The failure of a rank, seen by the ranks still waiting in a collective (they stop instead of hanging).
public struct RankGroupFailed: Error, CustomStringConvertible {
    public var description: String { "another rank of the group failed" }
}

final class ResultSlots<R>: @unchecked Sendable {
    private var slots: [Result<R, Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<R, Error>) { lock.lock(); slots[i] = r; lock.unlock() }
    func values() throws -> [R] {
        // The first failing rank's own error is the one reported, not the others' RankGroupFailed.
        if let e = slots.compactMap({ s -> Error? in if case .failure(let e) = s, !(e is RankGroupFailed) { return e }; return nil }).first { throw e }
        return try slots.map { slot in
            guard let slot else { throw RankGroupFailed() }
            return try slot.get()
        }
    }
}

/// The exchange area of a thread group: each rank deposits its contribution, waits for all, reads
/// everyone's, and waits again before the slots are reused (a two-phase barrier per collective).
final class ThreadGroupState: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var slots: [Any?]
    private var arrived = 0
    private var generation = 0
    private var failed = false
    private let done: DispatchGroup

    init(size: Int, done: DispatchGroup) {
        self.size = size
        self.done = done
        slots = Array(repeating: nil, count: size)
    }

    /// A rank that cannot go on (its group failed, or it aborted) leaves the group and parks its
    /// thread for good: Swift frames cannot be unwound by pthread_exit, and the run has ended anyway.
    func leaveForGood() -> Never {
        done.leave()
        while true { sleep(3600) }
    }

    func fail() {
        condition.lock(); failed = true; condition.broadcast(); condition.unlock()
    }

    /// Deposits `value` for `rank`, waits until every rank has, and returns all deposits in rank order.
    func exchange(_ value: Any, rank: Int) -> [Any] {
        condition.lock()
        defer { condition.unlock() }
        slots[rank] = value
        let all = waitForAll()
        _ = waitForAll()  // nobody deposits the next collective's value before everyone has read this one
        return all
    }

    /// A barrier; the slots as they stood when the last rank arrived.
    private func waitForAll() -> [Any] {
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine && !failed { condition.wait() }
        }
        if failed && generation == mine {
            condition.unlock()
            leaveForGood()
        }
        return slots.map { $0 as Any }
    }
}

final class ThreadGroupCommunicator: Communicator, @unchecked Sendable {
    let rank: Int
    let state: ThreadGroupState
    let recordFailure: (Error) -> Void
    var size: Int { state.size }

    init(rank: Int, state: ThreadGroupState, results: @escaping (Error) -> Void) {
        self.rank = rank
        self.state = state
        recordFailure = results
    }

    private func all<V>(_ v: V) -> [V] { state.exchange(v, rank: rank).map { $0 as! V } }

    func sumInRankOrder(_ x: inout [Double]) { x = Self.sumInOrder(all(x)) }
    func sumInRankOrder(_ x: inout [Float]) { x = Self.sumInOrder(all(x)) }

    static func sumInOrder<T: FloatingPoint>(_ parts: [[T]]) -> [T] {
        var s = parts[0]
        for p in parts.dropFirst() {
            precondition(p.count == s.count, "sumInRankOrder: ranks passed arrays of different lengths")
            for i in s.indices { s[i] += p[i] }
        }
        return s
    }

    func maximum(_ x: inout [Double]) {
        let parts = all(x)
        x = parts.dropFirst().reduce(parts[0]) { m, p in zip(m, p).map { max($0, $1) } }
    }

    func broadcast(_ x: inout [Double], from root: Int) { x = all(x)[root] }
    func broadcast(_ x: inout [Float], from root: Int) { x = all(x)[root] }
    func broadcast(_ bytes: inout [UInt8], from root: Int) { bytes = all(bytes)[root] }
    func allGather(_ bytes: [UInt8]) -> [[UInt8]] { all(bytes) }
    func barrier() { _ = all(0) }

    func abort(_ message: String) -> Never {
        recordFailure(RankAborted(rank: rank, message: message))
        state.fail()
        state.leaveForGood()
    }
}
