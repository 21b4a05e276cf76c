// Nothing a run has already written may be corrupted by a crash or a full disk: every file is
// written to a temporary sibling and renamed over the target only once it is complete.
import Foundation

public enum AtomicFile {
    /// Writes `data` to `url` through a temporary file in the same directory, then renames it.
    /// Errors name the file and the reason (e.g. "No space left on device").
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw DataError.io(file: url.path, reason: "cannot create its folder: \(FileErrors.reason(error))")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
            throw DataError.io(file: url.path, reason: "cannot create temporary file \(tmp.lastPathComponent) (\(String(cString: strerror(errno))))")
        }
        do {
            let h = try FileHandle(forWritingTo: tmp)
            defer { try? h.close() }
            try h.write(contentsOf: data)
            try h.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw DataError.io(file: url.path, reason: "write failed: \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw DataError.io(file: url.path, reason: "rename failed: \(reason)")
        }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    /// Removes the temporary files (".<name>.tmp-<pid>") a killed writer left in `dir` and its
    /// direct subfolders, and returns their names. Only for a caller that holds the folder's run
    /// lock: then no other process can be writing them.
    @discardableResult
    public static func removeStaleTemporaries(in dir: URL) -> [String] {
        let fm = FileManager.default
        var folders = [dir]
        for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: dir.appendingPathComponent(name).path, isDirectory: &isDir), isDir.boolValue {
                folders.append(dir.appendingPathComponent(name))
            }
        }
        var removed: [String] = []
        for folder in folders {
            for name in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where isTemporaryName(name) {
                if (try? fm.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(name) }
            }
        }
        return removed
    }

    /// ".<name>.tmp-<digits>", the names `write` uses.
    static func isTemporaryName(_ name: String) -> Bool {
        guard name.hasPrefix("."), let r = name.range(of: ".tmp-", options: .backwards) else { return false }
        let pid = name[r.upperBound...]
        return !pid.isEmpty && pid.allSatisfy(\.isASCII) && pid.allSatisfy(\.isNumber) && r.lowerBound > name.index(after: name.startIndex)
    }

    /// Encodes a value as pretty, key-sorted JSON and writes it atomically.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try write(enc.encode(value), to: url)
    }
}

/// Errors from reading or writing files: always one line naming the file (and field) at fault.
public enum DataError: Error, CustomStringConvertible, Equatable {
    case io(file: String, reason: String)
    case malformed(file: String, reason: String)
    case mismatch(file: String, reason: String)
    /// What the file describes cannot be held in this machine's memory (or overflows a count).
    case tooLarge(file: String, reason: String)

    public var description: String {
        switch self {
        case .io(let f, let r): return "\(f): \(r)"
        case .malformed(let f, let r): return "\(f): malformed: \(r)"
        case .mismatch(let f, let r): return "\(f): mismatch: \(r)"
        case .tooLarge(let f, let r): return "\(f): too large: \(r)"
        }
    }
}
