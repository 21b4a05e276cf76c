// The per-block top eigenvalues of `tianalyze sensitivity` stream to eigen-partial.jsonl as each block
// finishes, so an interrupted run resumes at the next block. Each block's power iteration draws from
// its own seed (derived from the block's name), so a resumed run gives the results of an
// uninterrupted one. The first line keys the file to everything the eigenvalues depend on; a file
// with another key is started afresh.
import Foundation
import TIData
import TIAnalysis

struct EigenStream {
    private struct Header: Codable { var key: String }
    private struct Line: Codable { var block: String; var result: EigenResult }
    let url: URL
    let key: String

    /// Keyed by the options (the budget aside: it changes no eigenvalue) and the point analysed.
    init(dir: URL, options: SensitivityOptions, checkpointHash: String) throws {
        url = dir.appendingPathComponent("eigen-partial.jsonl")
        var o = options
        o.budget = .averageBits(4)
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let text = String(decoding: try enc.encode(o), as: UTF8.self) + "|" + checkpointHash
        key = String(CRC32.checksum(Data(text.utf8)), radix: 16)
    }

    /// Blocks finished by an earlier run with the same key (a torn last line is dropped).
    func finished() -> [String: EigenResult] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [:] }
        let lines = text.split(separator: "\n").map { Data($0.utf8) }
        guard let first = lines.first, (try? JSONDecoder().decode(Header.self, from: first))?.key == key else { return [:] }
        var done: [String: EigenResult] = [:]
        for l in lines.dropFirst() { if let line = try? JSONDecoder().decode(Line.self, from: l) { done[line.block] = line.result } }
        return done
    }

    /// Starts the file afresh unless it holds this key.
    func open(keeping done: [String: EigenResult]) throws {
        guard done.isEmpty else { return }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(String(decoding: try JSONEncoder().encode(Header(key: key)), as: UTF8.self) + "\n", to: url)
    }

    func append(block: String, result: EigenResult) throws {
        let h = try FileHandle(forWritingTo: url)
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: Data((String(decoding: try JSONEncoder().encode(Line(block: block, result: result)), as: UTF8.self) + "\n").utf8))
    }
}
