// What the library tells its caller, in its own terms: an unusable option value is an
// OptionValueError naming the library's option (the CLI maps it to a flag), and the studies' progress
// goes to the caller's RunEvents. Also: the precision option picks the scalar type the study runs in.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIData
import TILinalg
import TITestSupport

final class BoundaryTests: XCTestCase {
    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-boundary-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    private func assertOptionError(_ option: OptionName, value: String?, mentions fragment: String, line: UInt = #line,
                                   _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an OptionValueError for \(option)", line: line)
        } catch let e as OptionValueError {
            XCTAssertEqual(e.option, option, line: line)
            XCTAssertEqual(e.value, value, line: line)
            XCTAssertTrue(e.reason.contains(fragment), "'\(e.reason)' does not mention '\(fragment)'", line: line)
            XCTAssertFalse(e.description.contains("\n"), "not one line: \(e)", line: line)
            XCTAssertFalse(e.description.contains("--"), "names a flag: \(e)", line: line)
        } catch {
            XCTFail("expected OptionValueError, got \(error)", line: line)
        }
    }

    func testQuantizationOptionValues() {
        assertOptionError(.quantDict, value: "q=16", mentions: "NAME=BITS") { _ = try PTQ.parseQuantDict("x=16,q=16") }
        assertOptionError(.quantDict, value: " x=40", mentions: "2…16") { _ = try PTQ.parseQuantDict("h=8, x=40") }
        assertOptionError(.pegSites, value: "y,q", mentions: "x, h, y") { _ = try PEGOptions.parse("ng6", sites: "y,q") }
        assertOptionError(.peg, value: "ng0", mentions: "ngK") { _ = try PEGOptions.parse("ng0", sites: "y") }
        assertOptionError(.peg, value: "group6", mentions: "pe") { _ = try PEGOptions.parse("group6", sites: "x") }
    }

    func testTaskOptionValues() throws {
        assertOptionError(.task, value: "cola2", mentions: "count") { _ = try TaskSource(name: "cola2", dataDir: nil, maxSeqLength: 8, skipBadRows: false) }
        assertOptionError(.dataDir, value: nil, mentions: "GLUE task 'cola'") { _ = try TaskSource(name: "cola", dataDir: nil, maxSeqLength: 8, skipBadRows: false) }
        let glue = try TaskSource(name: "cola", dataDir: "/nowhere", maxSeqLength: 8, skipBadRows: false)
        assertOptionError(.tokenizerDir, value: nil, mentions: "tokenizer") { _ = try glue.load(tokenizerDir: nil) }
        let ws = Workspace(root: tempDir())
        assertOptionError(.pretrained, value: nil, mentions: "pretrained") { try ws.trainTeacher(glue, config: FineTuneConfig()) }
        XCTAssertThrowsError(try ws.teacher(glue)) { e in
            XCTAssertEqual(e as? MissingTeacherError, MissingTeacherError(directory: ws.teacherDir(glue).path, task: glue))
            XCTAssertFalse("\(e)".contains("--"), "\(e)")
        }
    }

    func testStudyOptionValues() throws {
        assertOptionError(.landscapeModes, value: "XX", mentions: "TI-G") { _ = try LandscapeMode(parsing: "XX") }
        assertOptionError(.landscapeModes, value: "", mentions: "unknown mode") { _ = try LandscapeMode(parsing: "") }
        assertOptionError(.landscapeModes, value: ":", mentions: "unknown mode") { _ = try LandscapeMode(parsing: ":") }
        assertOptionError(.landscapeModes, value: "KD:ZZ", mentions: "'ZZ'") { _ = try LandscapeMode(parsing: "KD:ZZ") }
        assertOptionError(.benchShape, value: "bert-large", mentions: "minilm") { _ = try PeerBench.shape("bert-large") }
        var h = HessianOptions()
        h.mode = .kd; h.parameters = "nothing.*"
        assertOptionError(.parameters, value: "nothing.*", mentions: "no parameter") {
            _ = try HessianStudy.run(target: TinyAnalysisTarget.make(train: 8), options: h, outDir: tempDir())
        }
        var p = PeerProbeOptions()
        p.samples = 0
        assertOptionError(.samples, value: "0", mentions: "at least 1") {
            _ = try PeerProbe.run(target: TinyAnalysisTarget.make(train: 8), options: p, outDir: tempDir())
        }
    }

    /// Values the estimators would trap on are refused first, naming the option.
    func testEstimatorLimitsAreOptionErrors() {
        let cases: [(OptionName, String, (inout HessianOptions) -> Void)] = [
            (.topK, "0", { $0.topK = 0 }),
            (.tolerance, "0.0", { $0.tolerance = 0 }),
            (.maxIterations, "1", { $0.maxIterations = 1 }),
            (.traceProbes, "2", { $0.traceMinProbes = 2; $0.traceMaxProbes = 4 }),
            (.traceProbes, "0", { $0.perLayer = true; $0.traceMinProbes = 0 }),
            (.perExample, "-1", { $0.perExample = -1 }),
            (.lanczosSteps, "0", { $0.perExample = 2; $0.lanczosSteps = 0 }),
            (.samples, "-1", { $0.samples = -1 }),
            (.batchSize, "0", { $0.batchSize = 0 }),
        ]
        for (option, value, change) in cases {
            var o = HessianOptions()
            o.mode = .kd
            change(&o)
            assertOptionError(option, value: value, mentions: "expected") {
                _ = try HessianStudy.run(target: TinyAnalysisTarget.make(train: 8), options: o, outDir: tempDir())
            }
        }
        var p = PeerProbeOptions()
        p.topK = 2; p.maxIterations = 0
        assertOptionError(.maxIterations, value: "0", mentions: "at least 2") {
            _ = try PeerProbe.run(target: TinyAnalysisTarget.make(train: 8), options: p, outDir: tempDir())
        }
        p.topK = 0  // no power iteration: its limits do not apply
        XCTAssertNoThrow(try p.validate())
    }

    /// f32 runs in Float: its default HVP scheme is central differences, f64's forward (DatasetObjective).
    func testPrecisionSelectsTheScalarType() throws {
        XCTAssertEqual(Precision.allCases.map(\.rawValue), ["f32", "f64"])
        XCTAssertTrue(Precision.f32.scalarType == Float.self)
        XCTAssertTrue(Precision.f64.scalarType == Double.self)
        var o = HessianOptions()
        o.mode = .kd; o.topK = 1; o.maxIterations = 5; o.lanczosSteps = 0; o.traceMinProbes = 0; o.traceMaxProbes = 0
        var schemes: [Precision: HVPDifference] = [:]
        for precision in Precision.allCases {
            o.precision = precision
            let out = tempDir()
            schemes[precision] = try HessianStudy.run(target: TinyAnalysisTarget.make(train: 8), options: o, outDir: out).hvpDifference
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("hessian.json"))) as? [String: Any]
            XCTAssertEqual((json?["options"] as? [String: Any])?["precision"] as? String, precision.rawValue)
        }
        XCTAssertEqual(schemes, [.f32: .central, .f64: .forward])
    }

    func testHessianStudyReportsItsProductsAndPerLayerNotes() throws {
        var o = HessianOptions()
        o.mode = .kd; o.topK = 1; o.maxIterations = 4; o.tolerance = 1e-12; o.lanczosSteps = 3; o.traceMinProbes = 3; o.traceMaxProbes = 3
        o.perLayer = true
        let rec = EventRecorder()
        let r = try HessianStudy.run(target: TinyAnalysisTarget.make(train: 8), options: o, outDir: tempDir(), events: rec.events)
        let main = rec.updates.filter { $0.label == "hessian KD" }
        XCTAssertEqual(main.map(\.done), Array(1...main.count), "one update per operator application")
        XCTAssertEqual(Set(main.map(\.total)), [1 * 4 + 3 + 3])
        XCTAssertGreaterThanOrEqual(main.count, 4 + 3 + 3)
        XCTAssertEqual(rec.notes.count, r.perLayer.count)
        for (note, row) in zip(rec.notes, r.perLayer) { XCTAssertTrue(note.hasPrefix("per-layer \(row.group): λmax "), note) }
    }

    func testLandscapeStudyReportsItsOwnSummary() throws {
        var o = LandscapeOptions()
        o.modes = [try LandscapeMode(parsing: "KD")]
        o.grid = "-0.5:0.5:2"; o.evalSize = 4; o.batchSize = 4
        let rec = EventRecorder()
        let (p, _) = try LandscapeStudy.run(target: TinyAnalysisTarget.make(train: 8), options: o, outDir: tempDir(), events: rec.events)
        XCTAssertEqual(rec.updates.map(\.done), Array(0...4), "the start, then every point")
        XCTAssertTrue(rec.updates.allSatisfy { $0.label == "landscape" && $0.total == 4 && $0.hasSummary })
        XCTAssertTrue(rec.updates.last!.text.hasPrefix("4/4 points"), rec.updates.last!.text)
        XCTAssertEqual(p.done, 4)
    }
}
