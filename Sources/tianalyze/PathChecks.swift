// Named inputs and outputs checked when the command line is parsed, before any work: an input that
// is missing or of the wrong kind, an output folder that cannot be created or written, and an
// output folder that is (or contains) an input, which the run would overwrite. A failure at the end
// of an hour of training for a typo in --out is the failure this prevents.
import ArgumentParser
import Foundation

enum PathChecks {
    /// The path with symlinks resolved as far as it exists (so two spellings of one folder compare equal).
    static func resolved(_ path: String) -> URL {
        var existing = URL(fileURLWithPath: path).standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path) && existing.path != "/" {
            rest.insert(existing.lastPathComponent, at: 0)
            existing.deleteLastPathComponent()
        }
        var url = existing.resolvingSymlinksInPath()
        for c in rest { url.appendPathComponent(c) }
        return url
    }

    private static func isFolder(_ path: String) -> Bool? {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) ? dir.boolValue : nil
    }

    /// An output folder that exists, or whose nearest existing ancestor is a folder this process may write.
    static func outputFolder(_ path: String, _ flag: String) throws {
        var url = URL(fileURLWithPath: path).standardizedFileURL
        if isFolder(url.path) == false { throw Domain.refusal(flag, path, "a folder, found a file") }
        while isFolder(url.path) == nil && url.path != "/" { url.deleteLastPathComponent() }
        guard isFolder(url.path) == true else { throw Domain.refusal(flag, path, "a folder, but \(url.path) is a file") }
        guard access(url.path, W_OK | X_OK) == 0 else {
            throw Domain.refusal(flag, path, "a folder this user can write (\(url.path): \(String(cString: strerror(errno))))")
        }
    }

    /// Refuses an output folder that is, or lies above, one of the named inputs.
    static func notOverwriting(_ out: String, _ flag: String, inputs: [(flag: String, path: String?)]) throws {
        let o = resolved(out).path
        for (inFlag, path) in inputs {
            guard let path else { continue }
            let i = resolved(path).path
            if i == o || i.hasPrefix(o.hasSuffix("/") ? o : o + "/") {
                throw Domain.refusal(flag, out, "a folder apart from the input \(inFlag) '\(path)', which it \(i == o ? "is" : "contains") (writing there would overwrite it)")
            }
        }
    }

    /// An output file: not a folder, in a folder this user can write, and none of the named inputs.
    static func outputFile(_ path: String?, _ flag: String, inputs: [(flag: String, path: String?)]) throws {
        guard let path else { return }
        if isFolder(path) == true { throw Domain.refusal(flag, path, "a file to write, found a folder") }
        try outputFolder(resolved(path).deletingLastPathComponent().path, flag)
        for (inFlag, input) in inputs where input.map({ resolved($0).path == resolved(path).path }) == true {
            throw Domain.refusal(flag, path, "a file apart from the input \(inFlag) (writing there would overwrite it)")
        }
    }

    /// An input that must be an existing folder (a checkpoint, a data folder).
    static func inputFolder(_ path: String?, _ flag: String) throws {
        guard let path else { return }
        switch isFolder(path) {
        case nil: throw ValidationError("\(flag) '\(path)': not found")
        case false?: throw Domain.refusal(flag, path, "a folder, found a file")
        default: return
        }
    }

    /// An input that must be an existing regular file (an export, a direction file).
    static func inputFile(_ path: String?, _ flag: String) throws {
        guard let path else { return }
        var st = stat()
        guard stat(path, &st) == 0 else { throw ValidationError("\(flag) '\(path)': \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else {
            let kind = st.st_mode & S_IFMT == S_IFDIR ? "a folder" : st.st_mode & S_IFMT == S_IFIFO ? "a FIFO" : "not a regular file"
            throw Domain.refusal(flag, path, "a regular file, found \(kind)")
        }
    }
}
