// `--dir-file`: directions are saved once and reused, so every shard of a grid run (and a later
// rerun) perturbs along bit-identical vectors. The format is deliberately tiny:
//
//   bytes 0..<8   magic "TIDIR01\n"
//   bytes 8..<12  UInt32 little-endian: length H of the JSON header
//   H bytes       JSON header (DirectionFileHeader)
//   rest          count × dimension Float32 little-endian values, vector after vector
//
// The header carries the StableHash of the payload, checked on load, so a truncated or edited
// file is refused instead of silently giving a different landscape.
import Foundation
import TIData
import TILinalg

public struct DirectionFileHeader: Codable, Sendable, Equatable {
    public var format: String
    public var count: Int
    public var dimension: Int
    public var layoutFingerprint: String
    public var normalization: DirectionNormalization
    public var ignore: DirectionIgnore
    public var oneDimensional: OneDimensionalRule
    public var seed: UInt64?
    /// `LandscapeDirections.hash` of the payload.
    public var hash: String
}

public enum DirectionFile {
    static let magic = Data("TIDIR01\n".utf8)
    static let formatName = "tianalyze-directions-v1"

    public static func write(_ directions: LandscapeDirections, to url: URL) throws {
        let header = DirectionFileHeader(
            format: formatName, count: directions.count, dimension: directions.dimension,
            layoutFingerprint: directions.layoutFingerprint,
            normalization: directions.options.normalization, ignore: directions.options.ignore,
            oneDimensional: directions.options.oneDimensional, seed: directions.seed, hash: directions.hash)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let json = try enc.encode(header)
        var data = magic
        var len = UInt32(json.count).littleEndian
        withUnsafeBytes(of: &len) { data.append(contentsOf: $0) }
        data.append(json)
        for v in directions.vectors {
            // Float's in-memory layout is little-endian on every platform Swift supports on Linux/macOS.
            v.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        try AtomicFile.write(data, to: url)
    }

    /// Reads the header only (cheap; for listing and for checking a layout before loading).
    public static func readHeader(_ url: URL) throws -> DirectionFileHeader {
        let data = try readData(url)
        return try parseHeader(data, url).header
    }

    /// Loads and verifies a direction file. With `layout`, also checks it was made for that layout.
    public static func read(_ url: URL, layout: ParameterLayout? = nil) throws -> LandscapeDirections {
        let data = try readData(url)
        let (header, payloadStart) = try parseHeader(data, url)
        let expected = header.count * header.dimension * MemoryLayout<Float>.size
        guard data.count - payloadStart == expected else {
            throw DataError.malformed(file: url.path, reason: "payload has \(data.count - payloadStart) bytes, header promises \(expected) (\(header.count)×\(header.dimension) Float32)")
        }
        if let layout {
            guard header.dimension == layout.count else {
                throw DataError.mismatch(file: url.path, reason: "directions have dimension \(header.dimension), model has \(layout.count) parameters")
            }
            guard header.layoutFingerprint == layout.fingerprint else {
                throw DataError.mismatch(file: url.path, reason: "directions were made for parameter layout \(header.layoutFingerprint), model layout is \(layout.fingerprint)")
            }
        }
        var vectors: [[Float]] = []
        for k in 0..<header.count {
            let start = payloadStart + k * header.dimension * 4
            var v = [Float](repeating: 0, count: header.dimension)
            _ = v.withUnsafeMutableBytes { dst in
                data.copyBytes(to: dst, from: start..<(start + header.dimension * 4))
            }
            vectors.append(v)
        }
        let dirs = LandscapeDirections(
            vectors: vectors,
            options: DirectionOptions(normalization: header.normalization, ignore: header.ignore, oneDimensional: header.oneDimensional),
            seed: header.seed, layoutFingerprint: header.layoutFingerprint)
        guard dirs.hash == header.hash else {
            throw DataError.malformed(file: url.path, reason: "payload hash \(dirs.hash) differs from header hash \(header.hash) (file corrupted or edited)")
        }
        return dirs
    }

    private static func readData(_ url: URL) throws -> Data {
        do { return try Data(contentsOf: url) } catch {
            throw DataError.io(file: url.path, reason: "cannot read direction file (\(error.localizedDescription))")
        }
    }

    private static func parseHeader(_ data: Data, _ url: URL) throws -> (header: DirectionFileHeader, payloadStart: Int) {
        guard data.count >= 12, data.prefix(8) == magic else {
            throw DataError.malformed(file: url.path, reason: "not a tianalyze direction file (bad magic)")
        }
        var len: UInt32 = 0
        _ = withUnsafeMutableBytes(of: &len) { data.copyBytes(to: $0, from: 8..<12) }
        let headerLength = Int(UInt32(littleEndian: len))
        guard data.count >= 12 + headerLength else {
            throw DataError.malformed(file: url.path, reason: "header length \(headerLength) exceeds file size \(data.count)")
        }
        let header: DirectionFileHeader
        do {
            header = try JSONDecoder().decode(DirectionFileHeader.self, from: data.subdata(in: 12..<(12 + headerLength)))
        } catch {
            throw DataError.malformed(file: url.path, reason: "unreadable header (\(error.localizedDescription))")
        }
        guard header.format == formatName else {
            throw DataError.malformed(file: url.path, reason: "unknown format \(header.format), expected \(formatName)")
        }
        guard (1...2).contains(header.count), header.dimension > 0 else {
            throw DataError.malformed(file: url.path, reason: "header has count \(header.count), dimension \(header.dimension)")
        }
        return (header, 12 + headerLength)
    }
}
