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
        guard case .ranks(let expected) = MPILaunch.kind(environment: env) else {
            started = SingleProcess.shared
            return SingleProcess.shared
        }
        let comm = MPICommunicator.initializeWorld()
        started = comm
        // srun without an MPI plugin starts N singletons of one rank each, which would all do the whole job.
        if let expected, expected != comm.size {
            comm.abort("Error: the launcher started \(expected) ranks but MPI sees \(comm.size); under srun pass --mpi=pmix (or the plugin the site's OpenMPI uses)")
        }
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
