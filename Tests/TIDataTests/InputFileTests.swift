// The input-file layer: a FIFO, a folder or an oversized file refused before it is opened, CRLF text
// read exactly as its LF twin, UTF-16 named as such, JSON failures named by field; and the state
// checksum against CRC-32 values computed independently (Python's zlib.crc32 of the same bytes).
import XCTest
import Foundation
import TIData

final class InputFileTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "accepted" } catch { return "\(error)" }
    }

    func testAFIFOIsRefusedWithoutOpeningIt() throws {
        let fifo = try tempDir().appendingPathComponent("model.safetensors")
        XCTAssertEqual(mkfifo(fifo.path, 0o644), 0)
        let start = Date()
        XCTAssertEqual(message { try InputFile.read(fifo) }, "\(fifo.path): not a regular file (a FIFO); give the file itself")
        XCTAssertEqual(message { try SafeTensorsFile.read(url: fifo) }, "\(fifo.path): not a regular file (a FIFO); give the file itself")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1, "opening a FIFO would block until a writer comes")
    }

    func testFoldersMissingFilesAndOversizedFilesAreNamed() throws {
        let dir = try tempDir()
        XCTAssertEqual(message { try InputFile.read(dir) }, "\(dir.path): is a folder, expected a file")
        let gone = dir.appendingPathComponent("gone.json")
        XCTAssertEqual(message { try InputFile.read(gone) }, "\(gone.path): cannot read: not found")
        let big = dir.appendingPathComponent("big.txt")
        try Data(count: 100).write(to: big)
        XCTAssertEqual(message { try InputFile.read(big, limit: 99) }, "\(big.path): 100 bytes, more than the 99-byte limit for this kind of file")
        XCTAssertEqual(try InputFile.read(big, limit: 100).count, 100)
    }

    func testCRLFTextReadsAsItsLFTwin() {
        let lf = "[PAD]\n[UNK]\n\nab\n", crlf = "[PAD]\r\n[UNK]\r\n\r\nab\r\n"
        XCTAssertEqual(InputFile.lines(lf), ["[PAD]", "[UNK]", "", "ab"])
        XCTAssertEqual(InputFile.lines(crlf), InputFile.lines(lf))
        XCTAssertEqual(InputFile.lines(crlf, omittingEmpty: true), ["[PAD]", "[UNK]", "ab"])
        // A bare CR inside a line is text, not a line end; a missing final newline loses nothing.
        XCTAssertEqual(InputFile.lines("a\rb\nc"), ["a\rb", "c"])
        // Splitting the String at "\n" would not split "\r\n", which Swift counts as one Character.
        XCTAssertEqual(crlf.split(separator: "\n").count, 1)
    }

    func testCRLFVocabularyIsTheSameTokenizer() throws {
        let dir = try tempDir()
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s"]
        try Data(tokens.map { $0 + "\n" }.joined().utf8).write(to: dir.appendingPathComponent("lf.txt"))
        try Data(tokens.map { $0 + "\r\n" }.joined().utf8).write(to: dir.appendingPathComponent("crlf.txt"))
        let a = try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("lf.txt"))
        let b = try WordPieceTokenizer.load(vocabTxt: dir.appendingPathComponent("crlf.txt"))
        XCTAssertEqual(b.vocabSize, tokens.count)
        XCTAssertEqual(a.encode("hello worlds", nil, maxLength: 8).inputIds, b.encode("hello worlds", nil, maxLength: 8).inputIds)
        XCTAssertEqual(b.encode("hello worlds", nil, maxLength: 8).inputIds, [2, 5, 6, 7, 3, 0, 0, 0])
    }

    func testUTF16TextIsNamedAsSuch() throws {
        let url = try tempDir().appendingPathComponent("vocab.txt")
        try (Data([0xFF, 0xFE]) + "[PAD]\n".data(using: .utf16LittleEndian)!).write(to: url)
        XCTAssertEqual(message { try InputFile.text(url, what: "vocabulary") },
                       "\(url.path): malformed: vocabulary is not valid UTF-8 text (it is UTF-16; save it as UTF-8)")
    }

    func testJSONFailuresNameTheField() throws {
        struct Record: Decodable { let steps: Int; let name: String }
        let url = try tempDir().appendingPathComponent("r.json")
        try Data(#"{"steps": "ten", "name": "x"}"#.utf8).write(to: url)
        XCTAssertEqual(message { try InputFile.decodeJSON(Record.self, from: url) }, "\(url.path): malformed: field 'steps': expected Int")
        try Data(#"{"steps": 3}"#.utf8).write(to: url)
        XCTAssertEqual(message { try InputFile.decodeJSON(Record.self, from: url) }, "\(url.path): malformed: missing required field 'name'")
    }

    func testConfigNumbersTooLargeForIntNameTheirField() throws {
        for (field, value) in [("vocab_size", "1e400"), ("hidden_size", "99999999999999999999"), ("num_labels", "2.5")] {
            let json = #"{"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 16}"#
                .replacingOccurrences(of: "}", with: ", \"\(field)\": \(value)}")
            XCTAssertEqual(message { try HFBertConfig.decode(Data(json.utf8), file: "config.json") },
                           "config.json: malformed: field '\(field)': expected an integer that fits in 64 bits, found \(value)")
        }
    }

    func testHugeLabelCountWithALabelMapIsRefusedWithoutBuildingIt() throws {
        let json = #"{"vocab_size": 30, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 8, "max_position_embeddings": 16, "num_labels": 1000000000000000, "id2label": {"0": "a"}}"#
        let start = Date()
        XCTAssertTrue(message { try HFBertConfig.decode(Data(json.utf8), file: "c.json") }.contains("field 'id2label'"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    }

    func testStateChecksumIsCRC32OfEachTensorsBytes() throws {
        // zlib.crc32(struct.pack('<3f', 1, 2, 3)) and zlib.crc32(struct.pack('<f', -0.5)).
        XCTAssertEqual(StateChecksum.of([(name: "theta", values: [Float(1), 2, 3]), (name: "m", values: [Float(-0.5)])]),
                       "crc32 theta:b20e96b1 m:7a9a7101")
    }

    func testStateChecksumNamesTheChangedTensor() throws {
        let url = try tempDir().appendingPathComponent("state.safetensors")
        let sealed = StateChecksum.of([(name: "a", values: [Float(1), 2.5]), (name: "b", values: [Float(-0.5)])])
        XCTAssertEqual(sealed, "crc32 a:bbbb81d4 b:7a9a7101", "zlib.crc32(struct.pack('<2f', 1, 2.5))")
        try SafeTensorsWriter.write(tensors: [("a", [2], [Float(1), 2.5]), ("b", [1], [Float(-0.25)])],
                                    metadata: [StateChecksum.key: sealed], to: url)
        let f = try SafeTensorsFile.read(url: url)
        XCTAssertTrue(message { try StateChecksum.verify(f, names: ["a", "b"], required: true) }.contains("checksum mismatch in b:"))
        try SafeTensorsWriter.write(tensors: [("a", [2], [Float(1), 2.5]), ("b", [1], [Float(-0.5)])], metadata: [StateChecksum.key: sealed], to: url)
        XCTAssertNoThrow(try StateChecksum.verify(try SafeTensorsFile.read(url: url), names: ["a", "b"], required: true))
        try SafeTensorsWriter.write(tensors: [("a", [2], [Float(1), 2.5])], metadata: [:], to: url)
        XCTAssertNoThrow(try StateChecksum.verify(try SafeTensorsFile.read(url: url), names: ["a"], required: false), "older files have none")
        XCTAssertTrue(message { try StateChecksum.verify(try SafeTensorsFile.read(url: url), names: ["a"], required: true) }.contains("no checksum"))
    }

    func testMemoryIsFormattedInPowersOfAThousand() {
        XCTAssertEqual(MemoryBudget.format(512), "512 B")
        XCTAssertEqual(MemoryBudget.format(24.6e9), "24.6 GB")
        XCTAssertEqual(MemoryBudget.format(3.14e15), "3.14 PB")
        XCTAssertEqual(MemoryBudget.format(250e3), "250 kB")
        XCTAssertGreaterThan(MemoryBudget.machineBytes, 1e8)
    }
}
