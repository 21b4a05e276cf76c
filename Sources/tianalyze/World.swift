// The ranks this run is one of, picked once per process: MPI ranks when mpirun or srun started it
// as one of several (MPILaunch), otherwise a single process that never touches MPI. Only the CLI
// and TIMPI know about MPI; library code receives the Communicator.
import Foundation
import TILinalg
import TIMPI

enum World {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Communicator?

    /// The world communicator (MPI_Init on first use under a launcher).
    static var communicator: Communicator {
        lock.lock(); defer { lock.unlock() }
        if let started { return started }
        let env = ProcessInfo.processInfo.environment
        let comm: Communicator
        if case .ranks = MPILaunch.kind(environment: env) { comm = MPICommunicator.initializeWorld() } else { comm = SingleProcess.shared }
        started = comm
        return comm
    }

    /// The communicator if it has been picked; nil before (usage errors happen before any command runs).
    static var current: Communicator? {
        lock.lock(); defer { lock.unlock() }
        return started
    }

    /// This process's rank, from the launcher's variables when the communicator is not picked yet.
    static var rank: Int { current?.rank ?? MPILaunch.launchRank(environment: ProcessInfo.processInfo.environment) }

    /// `body` on rank 0 first (it may train or write what the others then read), then on the rest.
    static func rootFirst<R>(_ comm: Communicator, _ body: () throws -> R) rethrows -> R {
        guard comm.isDistributed else { return try body() }
        if comm.isRoot {
            let r = try body()
            comm.barrier()
            return r
        }
        comm.barrier()
        return try body()
    }
}
