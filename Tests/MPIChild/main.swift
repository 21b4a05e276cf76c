// A child process for MPITests, run under mpirun (or alone): exercises MPICommunicator's collectives
// on inputs whose sum depends on the order of addition, or makes one rank fail while the others wait.
//   tianalyze-mpi-child launch           prints "single" or "rank r of R"
//   tianalyze-mpi-child collectives N    prints each rank's results as one line of bit patterns
//   tianalyze-mpi-child fail-on-rank K   rank K aborts; the others wait in a barrier
//   tianalyze-mpi-child time-sum N REPS  rank 0 prints the mean seconds of a sum and a broadcast of N doubles
import Foundation
import TILinalg
import TIMPI

/// Rank r's input: 1e16, −1e16, 1, … scaled per element, so (x₀ + x₁) + x₂ differs from x₀ + (x₁ + x₂).
func input(rank r: Int, count n: Int) -> [Double] {
    let base: [Double] = [1e16, -1e16, 1, 3]
    return (0..<n).map { i in base[r % base.count] * (1 + Double(i) / 8) + Double(r) / 7 }
}

/// Float: 3e7 has a spacing of 2, so the small terms round differently by grouping.
func inputF(rank r: Int, count n: Int) -> [Float] {
    let base: [Float] = [3e7, -3e7, 1.75, 3]
    return (0..<n).map { i in base[r % base.count] * (1 + Float(i) / 8) + Float(r) / 7 }
}

let args = CommandLine.arguments.dropFirst()
let env = ProcessInfo.processInfo.environment
let comm: Communicator
if case .ranks = MPILaunch.kind(environment: env) { comm = MPICommunicator.initializeWorld() } else { comm = SingleProcess.shared }

func hex(_ xs: [Double]) -> String { xs.map { String($0.bitPattern, radix: 16) }.joined(separator: ",") }

switch args.first {
case "launch":
    print(comm.isDistributed ? "rank \(comm.rank) of \(comm.size)" : "single")
case "collectives":
    let n = Int(args.dropFirst().first ?? "10") ?? 10
    var sum = input(rank: comm.rank, count: n)
    comm.sumInRankOrder(&sum)
    var sumF = inputF(rank: comm.rank, count: n)
    comm.sumInRankOrder(&sumF)
    var maxima = (0..<n).map { Double(($0 + comm.rank) % comm.size) - 0.5 }
    comm.maximum(&maxima)
    var root = comm.rank == 1 ? [7.5, -2.25, 3] : []
    comm.broadcast(&root, from: min(1, comm.size - 1))
    let gathered = comm.allGather(Array("rank\(comm.rank)".utf8) + [UInt8](repeating: UInt8(comm.rank), count: comm.rank))
    comm.barrier()
    print("rank \(comm.rank) sum \(hex(sum)) sumf \(hex(sumF.map(Double.init))) max \(hex(maxima)) bcast \(hex(root)) gather \(gathered.map { $0.map(String.init).joined(separator: ".") }.joined(separator: "|"))")
case "fail-on-rank":
    let k = Int(args.dropFirst().first ?? "1") ?? 1
    if comm.rank == k { comm.abort("Error: rank \(k) failed on purpose") }
    comm.barrier()  // without the abort reaching every rank, this would wait forever
    print("rank \(comm.rank) passed the barrier")
case "time-sum":
    let n = Int(args.dropFirst().first ?? "1000") ?? 1000, reps = Int(args.dropFirst(2).first ?? "10") ?? 10
    var x = input(rank: comm.rank, count: n)
    comm.barrier()
    var start = Date()
    for _ in 0..<reps { comm.sumInRankOrder(&x) }
    let sum = Date().timeIntervalSince(start) / Double(reps)
    comm.barrier()
    start = Date()
    for _ in 0..<reps { comm.broadcast(&x, from: 0) }
    let bcast = Date().timeIntervalSince(start) / Double(reps)
    if comm.isRoot { print(String(format: "%d doubles over %d ranks: sum %.4f s, broadcast %.4f s", n, comm.size, sum, bcast)) }
default:
    FileHandle.standardError.write(Data("usage: tianalyze-mpi-child launch | collectives N | fail-on-rank K\n".utf8))
    exit(2)
}
