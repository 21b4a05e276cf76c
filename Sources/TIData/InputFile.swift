// Every file the tool reads goes through here, so that a careless or hostile path fails the same
// way everywhere: one DataError line naming the file. A FIFO, device or folder where a file is
// expected is refused before it is opened (reading a FIFO blocks forever), sizes are bounded
// before anything is allocated, and text is split into lines with CRLF read as LF.
import Foundation

public enum InputFile {
    /// Largest file read into memory whole; checkpoints are mapped, not copied, and stay far below.
    public static let maxBytes = 64 << 30

    /// The size of the regular file at `url` (symlinks followed), or the reason it is not one.
    public static func regularFileSize(_ url: URL) throws -> Int {
        var st = stat()
        guard stat(url.path, &st) == 0 else {
            throw DataError.io(file: url.path, reason: "cannot read: " + (errno == ENOENT ? "not found" : String(cString: strerror(errno))))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return Int(st.st_size)
        case S_IFDIR: throw DataError.io(file: url.path, reason: "is a folder, expected a file")
        case S_IFIFO: throw DataError.io(file: url.path, reason: "not a regular file (a FIFO); give the file itself")
        case S_IFCHR, S_IFBLK: throw DataError.io(file: url.path, reason: "not a regular file (a device)")
        case S_IFSOCK: throw DataError.io(file: url.path, reason: "not a regular file (a socket)")
        default: throw DataError.io(file: url.path, reason: "not a regular file")
        }
    }

    /// The bytes of a regular file of at most `limit` bytes; `mapped` maps large files instead of copying.
    public static func read(_ url: URL, limit: Int = maxBytes, mapped: Bool = false) throws -> Data {
        let size = try regularFileSize(url)
        guard size <= limit else {
            throw DataError.io(file: url.path, reason: "\(size) bytes, more than the \(limit)-byte limit for this kind of file")
        }
        do {
            return try Data(contentsOf: url, options: mapped ? .mappedIfSafe : [])
        } catch {
            throw DataError.io(file: url.path, reason: "cannot read: \(FileErrors.reason(error))")
        }
    }

    /// UTF-8 text of a regular file; `what` names the content in the refusal ("vocabulary").
    public static func text(_ url: URL, what: String = "file", limit: Int = maxBytes) throws -> String {
        let data = try read(url, limit: limit)
        guard let s = String(validating: data, as: UTF8.self) else {
            throw DataError.malformed(file: url.path, reason: "\(what) is not valid UTF-8 text\(data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) ? " (it is UTF-16; save it as UTF-8)" : "")")
        }
        return s
    }

    /// Lines split at LF bytes with a trailing CR dropped, so a CRLF file reads exactly as its LF
    /// twin. (Splitting a Swift String at "\n" would not split "\r\n", a single Character.)
    public static func lines(_ text: String, omittingEmpty: Bool = false) -> [String] {
        var out = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line -> String in
            let bytes = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            return String(decoding: bytes, as: UTF8.self)
        }
        if omittingEmpty { out.removeAll { $0.isEmpty } } else if out.last == "" { out.removeLast() }
        return out
    }

    /// Decodes JSON from a regular file, a decoding failure named by file and field.
    public static func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL, limit: Int = 1 << 30) throws -> T {
        let data = try read(url, limit: limit)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let e as DecodingError {
            throw DataError.malformed(file: url.path, reason: FileErrors.describe(e))
        }
    }
}

/// Foundation's errors in the tool's words: the POSIX reason, not a bridged NSError dump.
public enum FileErrors {
    /// "No such file or directory", "Not a directory", … for file errors; the description otherwise.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let e = error as? DataError { return e.description }
        if let e = error as? CocoaError, let errno = posixCode(e.code) { return String(cString: strerror(errno)) }
        return ns.localizedDescription
    }

    /// The POSIX error behind a Foundation file error code (Linux Foundation often gives no underlying error).
    static func posixCode(_ code: CocoaError.Code) -> Int32? {
        switch code {
        case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
        case .fileReadNoPermission, .fileWriteNoPermission: return EACCES
        case .fileWriteOutOfSpace: return ENOSPC
        case .fileWriteVolumeReadOnly: return EROFS
        case .fileWriteFileExists: return EEXIST
        case .fileReadTooLarge: return EFBIG
        default: return nil
        }
    }

    /// The path a Foundation file error is about, if it names one.
    public static func path(_ error: Error) -> String? {
        let ns = error as NSError
        return ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    }

    /// A decoding failure as "missing required field 'x'", "field 'a.b': expected Int", ….
    public static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [CodingKey], _ last: CodingKey? = nil) -> String {
            ((keys + (last.map { [$0] } ?? [])).map(\.stringValue)).joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let key, let ctx):
            return "missing required field '\(path(ctx.codingPath, key))'"
        case .typeMismatch(let type, let ctx):
            return "field '\(path(ctx.codingPath))': expected \(type)"
        case .valueNotFound(let type, let ctx):
            return "field '\(path(ctx.codingPath))': expected \(type), found null"
        case .dataCorrupted(let ctx):
            if ctx.codingPath.isEmpty { return "not valid JSON" }
            return "field '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        @unknown default:
            return "cannot decode"
        }
    }
}
