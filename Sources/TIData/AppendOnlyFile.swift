// Append-only streams (landscape points, trajectory entries): a record is written whole or, when
// the writer is killed mid-write, leaves a torn tail the reader detects and the next writer cuts.
import Foundation

/// Append-only writer: each record goes out with one write(2) on an O_APPEND descriptor, then
/// fsync, so a finished record survives a kill or a node crash.
public final class AppendOnlyFile {
    private let fd: Int32
    public let url: URL
    public let durable: Bool

    public init(_ url: URL, durable: Bool) throws {
        self.url = url
        self.durable = durable
        fd = open(url.path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else {
            throw DataError.io(file: url.path, reason: "cannot open for appending (\(String(cString: strerror(errno))))")
        }
    }

    deinit { close(fd) }

    public func append(_ text: String) throws { try append(bytes: Array(text.utf8)) }

    /// One write(2) of `bytes` (retried on EINTR and short writes), then fsync when durable.
    public func append(bytes: [UInt8]) throws {
        var bytes = bytes
        var offset = 0
        try bytes.withUnsafeMutableBytes { buf in
            while offset < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw DataError.io(file: url.path, reason: "append failed (\(String(cString: strerror(errno))))")
                }
                offset += n
            }
        }
        if durable, fsync(fd) != 0 {
            throw DataError.io(file: url.path, reason: "fsync failed (\(String(cString: strerror(errno))))")
        }
    }

    /// Cuts a torn tail left by a killed writer (the only time the file shrinks).
    public static func truncate(_ url: URL, to length: Int) throws {
        guard Foundation.truncate(url.path, off_t(length)) == 0 else {
            throw DataError.io(file: url.path, reason: "cannot drop torn tail (\(String(cString: strerror(errno))))")
        }
    }
}
