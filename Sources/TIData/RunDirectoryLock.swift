// One process per run folder: an exclusive advisory lock (flock) on a lock file inside it, so that a
// job resubmitted while its previous one still runs is refused instead of interleaving writes. The
// kernel drops the lock when the holder dies, so a killed run never blocks its rerun. Landscape
// shards and QAT runs take the same kind of lock, each on its own file name.
import Foundation

public final class RunDirectoryLock: @unchecked Sendable {
    public static let landscapeFile = "landscape.lock", qatFile = "qat.lock"

    public let url: URL
    private let fd: Int32

    /// Locks `<dir>/<file>` (creating the folder and the file); `what` names the run in the refusal.
    public init(_ dir: URL, file: String, what: String) throws {
        url = dir.appendingPathComponent(file)
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw DataError.io(file: dir.path, reason: "cannot create the run folder (\(FileErrors.reason(error)))")
        }
        fd = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw DataError.io(file: url.path, reason: "cannot open lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw DataError.io(file: url.path, reason: "another process is already running this \(what) directory")
        }
    }

    deinit { close(fd) }

    // Holds for callers whose lock must outlive the function that takes it (a QAT run: from reading
    // its saved state to its last file). Keyed by folder; a second hold by this process is a no-op,
    // since flock on a second descriptor would refuse the process itself.
    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var held: [String: RunDirectoryLock] = [:]

    /// Takes the lock for this process until `release` (or exit).
    public static func hold(_ dir: URL, file: String, what: String) throws {
        let key = dir.standardizedFileURL.path
        registryLock.lock(); defer { registryLock.unlock() }
        if held[key] != nil { return }
        held[key] = try RunDirectoryLock(dir, file: file, what: what)
    }

    public static func release(_ dir: URL) {
        registryLock.lock(); defer { registryLock.unlock() }
        held[dir.standardizedFileURL.path] = nil
    }
}
