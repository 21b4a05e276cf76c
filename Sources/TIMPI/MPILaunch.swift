// Whether this process was started as one of several ranks (mpirun, srun) or on its own. The same
// binary runs both ways: MPI is initialized only when a launcher says there are ranks, so a plain
// `tianalyze …` never touches MPI (and never needs an MPI runtime to be set up).
import Foundation

public enum MPILaunch {
    /// How a launcher described this process, read from its environment variables.
    public enum Kind: Equatable, Sendable {
        /// Not started by a launcher, or started as the only rank: no MPI.
        case singleProcess
        /// Started as one of `size` ranks (nil: the launcher does not say how many; MPI will).
        case ranks(size: Int?)
    }

    /// OpenMPI's mpirun sets OMPI_COMM_WORLD_SIZE; PMI-1/2 launchers (MPICH's, srun --mpi=pmi2) set
    /// PMI_SIZE; PMIx launchers set PMIX_RANK (the size then comes from Slurm, if anywhere). Under
    /// Slurm, SLURM_NTASKS is set in the batch script too, so it counts only inside an srun step
    /// (SLURM_STEP_ID), where every task is a rank.
    public static func kind(environment env: [String: String]) -> Kind {
        func count(_ key: String) -> Int? { env[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        if let n = count("OMPI_COMM_WORLD_SIZE") { return n > 1 ? .ranks(size: n) : .singleProcess }
        if let n = count("PMI_SIZE") { return n > 1 ? .ranks(size: n) : .singleProcess }
        let slurmTasks = env["SLURM_STEP_ID"] == nil ? nil : (count("SLURM_STEP_NUM_TASKS") ?? count("SLURM_NTASKS"))
        if env["PMIX_RANK"] != nil {
            if let n = slurmTasks { return n > 1 ? .ranks(size: n) : .singleProcess }
            return .ranks(size: nil)
        }
        if let n = slurmTasks, n > 1 { return .ranks(size: n) }
        return .singleProcess
    }

    /// This process's rank as the launcher numbers it (0 when not launched as ranks): known before
    /// MPI is initialized, so that usage errors, which every rank meets alike, are printed once.
    public static func launchRank(environment env: [String: String]) -> Int {
        guard case .ranks = kind(environment: env) else { return 0 }
        for key in ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"] {
            if let r = env[key].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }) { return r }
        }
        return 0
    }
}
