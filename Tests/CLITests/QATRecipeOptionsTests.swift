// `qat --clip / --quantize / --fp-activations / --kd-terms`: flags reach QATConfig, defaults leave it
// (and so the run hash) untouched, bad values are one line naming the flag, and options a method
// would silently ignore are refused.
import XCTest
import Foundation
import ArgumentParser
import TICore
import TIData
@testable import tianalyze

final class QATRecipeOptionsTests: XCTestCase {
    func apply(_ args: [String], mode: QATMode = .kd) throws -> QATConfig {
        var cfg = QATConfig(mode: mode)
        try QATRecipeOptions.parse(args).apply(to: &cfg)
        return cfg
    }

    func testFlagsReachTheConfiguration() throws {
        XCTAssertEqual(try apply([]), QATConfig(mode: .kd))
        let cfg = try apply(["--clip", "per-tensor", "--quantize", "qkv,o", "--fp-activations", "qk", "--kd-terms", "logits,hidden=0.5"])
        XCTAssertEqual(cfg.adam.clipping, .perTensor)
        XCTAssertEqual(cfg.sites, QuantizedSites(parts: [.qkv, .o], fullPrecisionActivations: .qk))
        XCTAssertEqual(cfg.distillation, DistillationTerms(logits: 1, hidden: 0.5, scores: 0, attentionOutput: 0))
        XCTAssertEqual(try apply(["--clip", "none"]).adam.clipping, GradientClipping.none)
        // The defaults spelled out keep the configuration as it is.
        XCTAssertEqual(try apply(["--quantize", "emb,pooler,qkv,o,ffn1,ffn2", "--kd-terms", "logits,hidden,scores,attn-out"]), QATConfig(mode: .kd))
        XCTAssertNotNil(try apply(["--fp-activations", "qkv"], mode: .tiG).sites)
        XCTAssertNotNil(try apply(["--quantize", "qkv"], mode: .qat).sites)
    }

    func testBadValuesNameTheFlag() {
        XCTAssertThrowsError(try apply(["--quantize", "qkv,attn"])) { e in
            XCTAssertEqual("\(ErrorMessages.forCommandLine(e))",
                           "--quantize 'attn': unknown part; expected a comma list of qkv, o, ffn1, ffn2, emb, pooler, classifier")
        }
        XCTAssertThrowsError(try apply(["--fp-activations", "v"])) { e in
            XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "--fp-activations 'v': expected one of qk, qkv")
        }
        XCTAssertThrowsError(try apply(["--kd-terms", "logits=-2"])) { e in
            XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "--kd-terms 'logits=-2': the weight must be a finite number ≥ 0")
        }
        XCTAssertThrowsError(try QATRecipeOptions.parse(["--clip", "layer"]))
    }

    func testOptionsAMethodWouldIgnoreAreRefused() {
        XCTAssertThrowsError(try apply(["--kd-terms", "logits"], mode: .qat)) { e in
            XCTAssertTrue("\(e)".contains("--kd-terms") && "\(e)".contains("QAT"), "\(e)")
        }
        for mode in [QATMode.fp, .q8bert] {
            XCTAssertThrowsError(try apply(["--quantize", "qkv"], mode: mode)) { e in
                XCTAssertTrue("\(e)".contains("change nothing") && "\(e)".contains(mode.rawValue), "\(e)")
            }
        }
    }
}
