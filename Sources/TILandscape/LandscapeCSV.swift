// landscape.csv is the run's durable record: one line per (point, mode), header
// `x,y,mode,<quantities…>`. A point's lines go out in a single write, so a killed process leaves
// at most one partial point at the end; the reader drops that tail and nothing else. Numbers use
// Swift's shortest round-trip formatting, so values read back are bit-identical to those written.
import Foundation
import TIData
import TILinalg

/// The values of one grid point: values[mode][quantity].
public struct LandscapePoint: Sendable, Equatable {
    public let index: Int
    public let values: [[Double]]
}

struct LandscapeCSVFormat {
    let config: LandscapeConfig

    var header: String { (["x", "y", "mode"] + config.quantities).joined(separator: ",") + "\n" }

    static func number(_ v: Double) -> String { v.description }

    /// "x,y" as it appears at the start of a point's lines (y empty on 1-D grids).
    func coordinateKey(point: Int) -> String {
        let c = config.grid.coordinates(of: point)
        return Self.number(c.x) + "," + (c.y.map(Self.number) ?? "")
    }

    func lines(for point: LandscapePoint) -> String {
        let key = coordinateKey(point: point.index)
        var out = ""
        for (m, mode) in config.modes.enumerated() {
            out += key + "," + mode
            for v in point.values[m] { out += "," + Self.number(v) }
            out += "\n"
        }
        return out
    }
}

/// Result of scanning an existing landscape.csv.
struct LandscapeCSVScan {
    var points: [LandscapePoint] = []
    /// Byte length of the valid prefix (header + complete points); the rest is a torn tail.
    var validLength = 0
    var fileLength = 0
    var headerPresent = false
}

enum LandscapeCSVReader {
    /// Parses `url`, returning complete points in file order. A torn tail (fewer lines than one point
    /// plus a possibly partial line) is reported via `validLength`; anything worse is an error, because
    /// dropping it would silently lose finished work.
    static func scan(_ url: URL, format: LandscapeCSVFormat, allowedPoint: (Int) -> Bool) throws -> LandscapeCSVScan {
        let data = try InputFile.read(url)
        var scan = LandscapeCSVScan()
        scan.fileLength = data.count
        // A file saved with CRLF line ends (an editor on Windows) reads as its LF twin.
        let crlf = Data((format.header.dropLast() + "\r\n").utf8)
        let header = data.starts(with: crlf) ? crlf : Data(format.header.utf8)
        if data.count < header.count {
            // A header cut short by a kill is rewritten; any other short content is foreign.
            guard header.starts(with: data) else {
                throw DataError.malformed(file: url.path, reason: "header is not '\(format.header.dropLast())'")
            }
            return scan
        }
        guard data.prefix(header.count) == header else {
            let first = String(decoding: data.prefix(200).split(separator: UInt8(ascii: "\n")).first ?? [], as: UTF8.self)
            throw DataError.mismatch(file: url.path, reason: "header '\(first)' differs from expected '\(format.header.dropLast())'")
        }
        scan.headerPresent = true
        scan.validLength = header.count

        var keyToPoint: [String: Int] = [:]
        for p in 0..<format.config.grid.pointCount where allowedPoint(p) { keyToPoint[format.coordinateKey(point: p)] = p }
        var seen = Set<Int>()
        let modes = format.config.modes
        let nq = format.config.quantities.count

        // Complete lines (terminated by "\n") after the header, with their end offsets.
        var lines: [(text: Substring, end: Int)] = []
        var start = header.count
        data.withUnsafeBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = start
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "\n") {
                    let end = i > start && bytes[i - 1] == UInt8(ascii: "\r") ? i - 1 : i
                    lines.append((Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)), i + 1))
                    start = i + 1
                }
                i += 1
            }
        }

        var li = 0
        while li + modes.count <= lines.count {
            var values: [[Double]] = []
            var key: String?
            var ok = true
            for (m, mode) in modes.enumerated() {
                let fields = lines[li + m].text.split(separator: ",", omittingEmptySubsequences: false)
                guard fields.count == 3 + nq, fields[2] == mode else { ok = false; break }
                let k = fields[0] + "," + fields[1]
                if let key, key != k { ok = false; break }
                key = String(k)
                let v = fields[3...].compactMap { Double($0) }
                guard v.count == nq else { ok = false; break }
                values.append(v)
            }
            guard ok, let key else { break }
            guard let p = keyToPoint[key] else {
                throw DataError.malformed(file: url.path, reason: "line \(li + 2): point (\(key)) is not on this grid/shard")
            }
            guard seen.insert(p).inserted else {
                throw DataError.malformed(file: url.path, reason: "line \(li + 2): point (\(key)) appears twice")
            }
            scan.points.append(LandscapePoint(index: p, values: values))
            li += modes.count
            scan.validLength = lines[li - 1].end
        }
        if lines.count - li >= modes.count {
            throw DataError.malformed(file: url.path, reason: "line \(li + 2): unreadable record followed by more data (not a torn tail); refusing to drop it")
        }
        return scan
    }
}

/// The integrity hash of a landscape record: the canonical lines of its finished points in file
/// order (numbers in their round-trip form), so a changed number, a planted NaN or a lost point is
/// detected, while the same record saved with CRLF line ends hashes alike.
struct LandscapeRecordHash {
    private var hash = StableHash()
    let format: LandscapeCSVFormat

    init(format: LandscapeCSVFormat, points: some Sequence<LandscapePoint> = []) {
        self.format = format
        for p in points { add(p) }
    }

    mutating func add(_ point: LandscapePoint) { hash.add(format.lines(for: point)) }

    var hex: String { hash.hex }

    /// Refuses `points` (file order) when the first `recorded` of them do not hash to `checksum`.
    static func verify(_ points: [LandscapePoint], recorded: Int, checksum: String, format: LandscapeCSVFormat, file: String) throws {
        guard points.count >= recorded else {
            throw DataError.mismatch(file: file, reason: "holds \(points.count) finished points, landscape.json recorded \(recorded); the record was cut or changed after it was written")
        }
        guard LandscapeRecordHash(format: format, points: points.prefix(recorded)).hex == checksum else {
            throw DataError.mismatch(file: file, reason: "checksum mismatch: its first \(recorded) points differ from what landscape.json recorded (a value was changed after it was written); restore the file or delete the run folder")
        }
    }
}
