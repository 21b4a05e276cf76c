// The readers of untrusted files under the seeded mutation fuzzer (ReaderFuzzing.swift): a short
// smoke run per reader in the normal suite; TIANALYZE_FUZZ_SECONDS=<per reader> for a long run
// (notebooks-cli/fuzz-readers.sh runs all six under an address-space limit and collects the counts).
import Foundation
import TIData
import XCTest

final class ReaderFuzzTests: XCTestCase {
    static let env = ProcessInfo.processInfo.environment
    /// Seconds per reader: the smoke run keeps the six under 15 s in all.
    static let seconds = env["TIANALYZE_FUZZ_SECONDS"].flatMap(Double.init) ?? 1.5
    static let seed = env["TIANALYZE_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_207

    func fuzz(_ target: FuzzTarget, minIterations: Int = 150) {
        XCTAssertFalse(target.seeds.isEmpty, "no seed corpus for \(target.name)")
        let r = ReaderFuzzer.run(target, seconds: Self.seconds, minIterations: minIterations, seed: Self.seed)
        print(r)
        if let path = Self.env["TIANALYZE_FUZZ_REPORT"], let h = FileHandle(forWritingAtPath: path) ?? {
            FileManager.default.createFile(atPath: path, contents: nil); return FileHandle(forWritingAtPath: path)
        }() {
            h.seekToEndOfFile(); h.write(Data("\(r)\n".utf8)); try? h.close()
        }
        XCTAssertEqual(r.otherErrors.prefix(5), [], "only success or a DataError is acceptable")
        // Both outcomes must occur, or the mutations are not reaching the reader's checks.
        XCTAssertGreaterThan(r.accepted, 0, "\(target.name): nothing accepted")
        XCTAssertGreaterThan(r.rejected, 0, "\(target.name): nothing refused")
        XCTAssertLessThan(r.slowestSeconds, 5, "\(target.name): an input took \(r.slowestSeconds) s")
        XCTAssertLessThan(r.peakResidentGrowthMB, 512, "\(target.name): resident memory grew by \(r.peakResidentGrowthMB) MB")
    }

    func testSafetensors() { fuzz(.safetensors) }
    func testPickle() { fuzz(.pickle) }
    func testConfigJSON() { fuzz(.config) }
    func testVocabTxt() { fuzz(.vocab) }
    func testTokenizerJSON() { fuzz(.tokenizer) }
    func testTSV() { fuzz(.tsv) }
}
