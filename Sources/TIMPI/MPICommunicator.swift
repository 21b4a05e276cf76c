// The ranks of an MPI job (MPI_COMM_WORLD) as a Communicator.
//
// Sums are reproducible and in rank order, which MPI_Allreduce does not promise (its reduction tree
// depends on the implementation, message sizes and process placement). Instead each rank owns one
// contiguous segment of the array (`share(of:)`): MPI_Alltoallv sends every rank's copy of a segment
// to its owner, the owner adds the R copies in rank order r = 0, 1, …, and MPI_Allgatherv hands the
// summed segments back. Every element is added by one rank in one order, so all ranks get the same
// bits, equal to ThreadGroup's (x₀ + x₁) + x₂ …; the volume is that of a ring all-reduce (2·(R−1)/R
// of the array per rank).
import CMPI
import Foundation
import TILinalg

public final class MPICommunicator: Communicator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm

    /// Initializes MPI (once per process) and wraps MPI_COMM_WORLD; MPI_Finalize runs at normal exit.
    /// Call only when `MPILaunch` says this process is one of several ranks.
    public static func initializeWorld() -> MPICommunicator {
        var provided: Int32 = 0
        var argc: Int32 = 0
        // Collectives are called by one thread at a time (the command's), never concurrently.
        let status = MPI_Init_thread(&argc, nil, Int32(MPI_THREAD_SERIALIZED), &provided)
        if status != MPI_SUCCESS {
            FileHandle.standardError.write(Data("Error: MPI_Init failed (code \(status)); is this a working OpenMPI launch?\n".utf8))
            exit(1)
        }
        atexit { finalizeMPIIfNeeded() }
        return MPICommunicator(world: tia_mpi_comm_world())
    }

    private init(world: MPI_Comm) {
        self.world = world
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(world, &r)
        MPI_Comm_size(world, &s)
        rank = Int(r)
        size = Int(s)
    }

    public func sumInRankOrder(_ x: inout [Double]) { reduceScatterGather(&x, type: tia_mpi_double()) }
    public func sumInRankOrder(_ x: inout [Float]) { reduceScatterGather(&x, type: tia_mpi_float()) }

    private func reduceScatterGather<T: FloatingPoint>(_ x: inout [T], type: MPI_Datatype) {
        let n = x.count
        guard size > 1, n > 0 else { return }
        let segments = (0..<size).map { share(of: n, rank: $0) }
        let mine = segments[rank]
        // Send segment s of my array to rank s; receive my segment from every rank, rank-major.
        var sendCounts = segments.map { Int32(checkedCount($0.count)) }
        var sendOffsets = segments.map { Int32($0.lowerBound) }
        var recvCounts = [Int32](repeating: Int32(mine.count), count: size)
        var recvOffsets = (0..<size).map { Int32(checkedCount($0 * mine.count)) }
        var received = [T](repeating: 0, count: size * mine.count)
        x.withUnsafeBufferPointer { send in
            received.withUnsafeMutableBufferPointer { recv in
                check(MPI_Alltoallv(send.baseAddress, &sendCounts, &sendOffsets, type,
                                    recv.baseAddress, &recvCounts, &recvOffsets, type, world), "MPI_Alltoallv")
            }
        }
        var sum = Array(received[0..<mine.count])
        for r in 1..<size {
            let base = r * mine.count
            for i in 0..<mine.count { sum[i] += received[base + i] }
        }
        var gatherCounts = sendCounts, gatherOffsets = sendOffsets
        sum.withUnsafeBufferPointer { s in
            x.withUnsafeMutableBufferPointer { out in
                check(MPI_Allgatherv(s.baseAddress, Int32(mine.count), type, out.baseAddress,
                                     &gatherCounts, &gatherOffsets, type, world), "MPI_Allgatherv")
            }
        }
    }

    private func share(of n: Int, rank r: Int) -> Range<Int> { MPICommunicator.share(of: n, rank: r, size: size) }

    public func maximum(_ x: inout [Double]) {
        guard size > 1, !x.isEmpty else { return }
        let n = Int32(checkedCount(x.count))
        x.withUnsafeMutableBufferPointer { b in
            check(MPI_Allreduce(tia_mpi_in_place(), b.baseAddress, n, tia_mpi_double(), tia_mpi_op_max(), world), "MPI_Allreduce")
        }
    }

    public func broadcast(_ x: inout [Double], from root: Int) { broadcastArray(&x, from: root, type: tia_mpi_double()) }
    public func broadcast(_ x: inout [Float], from root: Int) { broadcastArray(&x, from: root, type: tia_mpi_float()) }
    public func broadcast(_ bytes: inout [UInt8], from root: Int) { broadcastArray(&bytes, from: root, type: tia_mpi_byte()) }

    /// Root's length first (the others' arrays may differ in length), then root's elements.
    private func broadcastArray<T: Numeric>(_ x: inout [T], from root: Int, type: MPI_Datatype) {
        guard size > 1 else { return }
        var count = [Int64(x.count)]
        check(MPI_Bcast(&count, 1, tia_mpi_int64(), Int32(root), world), "MPI_Bcast")
        let n = Int(count[0])
        if x.count != n { x = [T](repeating: 0, count: n) }
        guard n > 0 else { return }
        x.withUnsafeMutableBufferPointer { b in
            check(MPI_Bcast(b.baseAddress, Int32(checkedCount(n)), type, Int32(root), world), "MPI_Bcast")
        }
    }

    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        guard size > 1 else { return [bytes] }
        var mine = Int64(bytes.count)
        var counts = [Int64](repeating: 0, count: size)
        check(MPI_Allgather(&mine, 1, tia_mpi_int64(), &counts, 1, tia_mpi_int64(), world), "MPI_Allgather")
        let offsets = counts.indices.map { i in counts[..<i].reduce(0, +) }
        let total = Int(counts.reduce(0, +))
        var recvCounts = counts.map { Int32(checkedCount(Int($0))) }
        var recvOffsets = offsets.map { Int32(checkedCount(Int($0))) }
        var all = [UInt8](repeating: 0, count: total)
        bytes.withUnsafeBufferPointer { send in
            all.withUnsafeMutableBufferPointer { recv in
                check(MPI_Allgatherv(send.baseAddress, Int32(bytes.count), tia_mpi_byte(), recv.baseAddress,
                                     &recvCounts, &recvOffsets, tia_mpi_byte(), world), "MPI_Allgatherv")
            }
        }
        return (0..<size).map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
    }

    public func barrier() { check(MPI_Barrier(world), "MPI_Barrier") }

    /// The failing rank writes its line, then MPI_Abort ends every rank of the job (mpirun exits
    /// non-zero). When every rank fails alike (a bad input all of them read), the others give rank 0
    /// a moment to abort first, so the line is usually printed once rather than R times.
    public func abort(_ message: String) -> Never {
        if rank != 0 { usleep(1_000_000) }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        MPI_Abort(world, 1)
        exit(1)
    }

    /// MPI counts are 32-bit: larger arrays would need chunking, which no caller needs yet
    /// (2³¹ doubles is 16 GiB per collective).
    private func checkedCount(_ n: Int) -> Int {
        if n > Int(Int32.max) { abort("Error: an MPI collective of \(n) elements exceeds MPI's 32-bit count") }
        return n
    }

    /// MPI's default error handler already aborts the job on failure; this covers a handler that returns.
    private func check(_ status: Int32, _ call: String) {
        if status != MPI_SUCCESS { abort("Error: \(call) failed on rank \(rank) (MPI error \(status))") }
    }
}

/// At normal exit every rank reaches MPI_Finalize; after MPI_Abort nothing does.
private func finalizeMPIIfNeeded() {
    var initialized: Int32 = 0, finalized: Int32 = 0
    MPI_Initialized(&initialized)
    MPI_Finalized(&finalized)
    if initialized != 0 && finalized == 0 { MPI_Finalize() }
}
