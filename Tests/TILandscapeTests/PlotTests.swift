// Every plots/*.gp script must render a non-empty PNG and SVG from data in the documented layout.
// The landscape data comes from a real (toy) LandscapeRun, so grid-file format and script agree.
import Foundation
import TILandscape
import TILandscapeToy
import TIPlots
import XCTest

final class PlotTests: XCTestCase {
    static let plotsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("plots")

    private func figureSet() throws -> FigureSet {
        let gnuplot: Gnuplot
        do { gnuplot = try Gnuplot.locate() } catch { throw XCTSkip("gnuplot not installed: \(error)") }
        return FigureSet(plotsDir: Self.plotsDir, gnuplot: gnuplot)
    }

    private func write(_ text: String, _ dir: URL, _ relative: String) throws {
        let url = dir.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// A run directory with small synthetic data for every figure.
    private func makeRunDir() throws -> URL {
        let run = Toy.tempDir("figures-run")
        // 2-D and 1-D landscapes from the engine itself.
        let space = LandscapeSpace.around(Toy.weights, directions: Toy.directions())
        var r = try LandscapeRun(config: Toy.config(grid: try LandscapeGrid.parse("-1:1:9"), space: space), space: space,
                                 outDir: run.appendingPathComponent("landscape"))
        r.durable = false
        try r.run(ToyEvaluator())
        // The trajectory over the contours and the roughness bars of the same surface.
        let surface = Roughness.measure(config: r.config, points: try r.readPoints())
        try RoughnessSummary(surfaces: [surface, surface]).write(to: r.directory)
        try write("# step x y\n0 0.8 -0.2\n5 0.5 0.1\n10 0.2 0.15\n15 0 0\n", run, "landscape/trajectory-path.dat")
        let d1 = LandscapeDirections.random(weights: Toy.weights, layout: Toy.layout, seed: 3, count: 1)
        let space1 = LandscapeSpace.around(Toy.weights, directions: d1)
        var r1 = try LandscapeRun(config: Toy.config(grid: try LandscapeGrid.parse("-1:1:11", oneDimensional: true), space: space1),
                                  space: space1, outDir: run.appendingPathComponent("landscape-1d"))
        r1.durable = false
        try r1.run(ToyEvaluator())

        var mse = "layer,mode,attn_mse,out_mse\n"
        for l in 0..<4 { for (i, m) in ["KD", "TI-G"].enumerated() { mse += "\(l),\(m),\(Double(i + 1) * 0.001 * Double(l + 1)),\(0.01 * Double(l * l + i + 1))\n" } }
        try write(mse, run, "layer-mse.csv")
        for (name, rate) in [("KD", 300.0), ("TI-G", 150.0)] {
            var train = "step,phase,lr,loss\n", dev = "step,phase,metric,relative_time\n"
            for s in stride(from: 0, through: 2000, by: 50) {
                train += "\(s),\(s < 800 ? 1 : 2),2e-05,\(0.2 + 1.5 * exp(-Double(s) / rate))\n"
                dev += "\(s),\(s < 800 ? 1 : 2),\(0.66 * (1 - exp(-Double(s) / rate))),\(Double(s) / 2000)\n"
            }
            try write(train, run, "convergence/train-\(name).csv")
            try write(dev, run, "convergence/dev-\(name).csv")
            var density = "x,density\n"
            for i in 0..<100 { let x = -10 + 0.3 * Double(i); density += "\(x),\(exp(-x * x) + 1e-5 * exp(-(x - rate / 30) * (x - rate / 30)))\n" }
            try write(density, run, "hessian/density-\(name).csv")
        }
        try write(#"{"teacher": 0.66, "target": 0.6, "step1": 800, "metricName": "dev accuracy", "runs": ["TI-G", "KD"], "#
                  + #""lossName": "training cross-entropy", "baseline": "KD"}"#, run, "convergence/figure.json")
        // Figure 1: the curves above reach 0.6 at 750 (KD) and 400 (TI-G) of KD's 2000 iterations.
        try write("mode,seed,steps_to_target,total_steps,relative_time,ratio_vs_kd\nKD,1,750,2000,0.375,1\nTI-G,1,400,2000,0.2,0.53333333\n",
                  run, "convergence/fig1-relative-time.csv")
        // The intervened step-1 evaluation of the TI run (every 10 steps, as the seeds evaluate).
        var stepOne = "step,intervention,metric\n"
        for s in stride(from: 10, through: 800, by: 10) { stepOne += "\(s),\(s % 20 == 0 ? "MI" : "OI"),\(0.62 * (1 - exp(-Double(s) / 60)))\n" }
        try write(stepOne, run, "convergence/step1-TI-G.csv")
        var eigs = "mode,example,lambda_pos,lambda_neg\n"
        for e in 0..<50 {
            eigs += "KD,\(e),\(40 + Double(e % 17) * 3),\(-5 - Double(e % 7))\n"
            eigs += "TI-G,\(e),\(20 + Double(e % 11) * 2),\(-2 - Double(e % 5) * 0.5)\n"
        }
        try write(eigs, run, "hessian/eigs.csv")
        try write("quantity,ratio\nforward,1.8\nbackward,2.3\nHessian-vector product,0.9\n", run, "speed-ratios.csv")
        // Curvature along the runs (as FigureAssembly.collectCurvature splits curvature.csv) and per-minibatch eigenvalues.
        let columns = "step,phase,objective,lambda_max,lambda_max_err,lanczos_min,lanczos_max,trace,trace_se,seconds,start\n"
        for (series, scale, phases) in [("KD-task", 1.0, [0]), ("TI-G-task", 0.6, [1, 2]), ("TI-G-train", 0.4, [1, 2])] {
            var rows = columns, minibatch = "step,phase,lambda_max,iterations\n"
            for s in stride(from: 0, through: 2000, by: 100) {
                let phase = phases.count == 1 ? 0 : (s <= 800 ? 1 : 2)
                rows += "\(s),\(phase),task,\(scale * (30 + Double(s) / 100)),0.05,\(-scale * 3),\(scale * 30),\(scale * 400),\(scale * 20),1.5,warm\n"
                minibatch += "\(s + 1),\(phase),\(scale * (25 + Double(s % 700) / 40)),12\n"
            }
            try write(rows, run, "curvature/curvature-\(series).csv")
            if series.hasSuffix("-task") { try write(minibatch, run, "curvature/minibatch-\(series.dropLast(5)).csv") }
        }
        // quant-report's CSVs: two outlier dimensions in the second layer's FFN residual sum.
        var dims = "site,dim,lo,hi,range\n"
        for site in ["attentionResidual.1", "ffnResidual.0", "ffnResidual.1"] {
            for j in 0..<32 {
                let r = 1 + Double(j % 5) * 0.3 + (site == "ffnResidual.1" && (j == 3 || j == 17) ? 25 : 0)
                dims += "\(site),\(j),\(-r / 2),\(r / 2),\(r)\n"
            }
        }
        try write(dims, run, "quant-report/quant-dims.csv")
        var sites = "kind,name,quantizer,bits,lo,hi,sqnr_db,count\n"
        for l in 0..<2 { sites += "weight,bert.encoder.layer.\(l).output.dense.weight,\"uniform8(sym)\",8,-0.2,0.2,\(38 + l),4096\n" }
        for (i, a) in ["attentionInput.0", "ffnResidual.0", "ffnResidual.1", "logits.0", "outputInput.1"].enumerated() {
            let label = a.hasPrefix("ffnResidual") ? "asym8(peg;ngp6)" : "asym8(calibrated)"  // as QuantReport.write spells PEG's
            sites += "activation,\(a),\"\(label)\",8,-1,1,\(i == 3 ? "inf" : String(30 - 4 * i)),1024\n"
        }
        try write(sites, run, "quant-report/quant-sites.csv")
        // Oscillation per step (KD single-phase, TI-G with a step 1 to shade) and an intervention map.
        for (name, phase1) in [("KD", 0), ("TI-G", 12)] {
            var osc = "step,phase,changed_fraction,oscillation_frequency,near_threshold_share\n"
            for s in 0...40 { osc += "\(s),\(phase1 == 0 ? 0 : (s <= phase1 ? 1 : 2)),\(0.01 / Double(s + 1)),\(0.002 * (1 - exp(-Double(s) / 10))),0.03\n" }
            try write(osc, run, "oscillation/osc-\(name).csv")
        }
        var map = "layer,point,loss,loss_relative,top_eigenvalue,top_eigenvalue_relative,output_mse,output_mse_relative,converged\nnone,none,1,1,10,1,0.01,1,1\n"
        for l in 0..<4 { for (i, p) in ["MI", "CI", "OI"].enumerated() { map += "\(l),\(p),0.9,\(0.9 + 0.02 * Double(l + i)),9,\(1.1 - 0.05 * Double(i)),0.008,\(0.8 + 0.1 * Double(l)),1\n" } }
        try write(map, run, "intervention-map.csv")
        // tianalyze sensitivity's files in a study's sensitivity folder: two tensors and a group.
        let sens = "sensitivity-count-FP-trained/"
        try write("block,kind,parameters,trace,trace_stderr,trace_per_param,allocated\nbert.pooler.dense.weight,tensor,64,3,0.5,0.046875,4\n"
                  + "bert.embeddings.word_embeddings.weight,tensor,128,-1,0.4,-0.0078125,ternary\nhead,group,200,2,1,0.01,\n", run, sens + "sensitivity.csv")
        try write("bytes,megabytes,avg_bits,omega\n1000,0.001,2,5\n1040,0.00104,2.7,0.8\n1100,0.0011,4,0.05\n", run, sens + "pareto.csv")
        try write("precision,bytes,megabytes,omega,allocated_bytes,allocated_omega\nternary,1000,0.001,5,1040,0.8\n4,1100,0.0011,0.05,1040,0.8\n",
                  run, sens + "uniform.csv")
        return run
    }

    private func assertImage(_ url: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let data = try Data(contentsOf: url)
        XCTAssertGreaterThan(data.count, 1000, "\(url.lastPathComponent) is suspiciously small", file: file, line: line)
        if url.pathExtension == "png" {
            XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(url.lastPathComponent) is not a PNG", file: file, line: line)
        } else {
            XCTAssertTrue(String(decoding: data.prefix(2000), as: UTF8.self).contains("<svg"), "\(url.lastPathComponent) is not SVG", file: file, line: line)
        }
    }

    func testEveryScriptRendersPNGAndSVGFromARunDirectory() throws {
        let figures = try figureSet()
        let run = try makeRunDir()
        defer { try? FileManager.default.removeItem(at: run) }
        let out = run.appendingPathComponent("figures")
        let report = try figures.renderAll(runDir: run, figuresDir: out)
        XCTAssertEqual(report.skipped, [])
        let expected = ["landscape-loss", "landscape-metric", "landscape-trajectory", "landscape-roughness", "landscape-1d-loss", "landscape-1d-metric", "layer-mse",
                        "convergence-loss", "convergence-metric", "fig1-relative-time", "hessian-hist", "hessian-density", "speed-ratios", "quant-ranges",
                        "curvature", "minibatch-eigs", "oscillation-KD", "oscillation-TI-G", "oscillation-compare", "intervention-map",
                        "sensitivity-count-FP-trained-blocks", "sensitivity-count-FP-trained-pareto"]
        XCTAssertEqual(Set(report.rendered.map(\.lastPathComponent)),
                       Set(expected.flatMap { ["\($0).png", "\($0).svg"] }))
        let scripts = Set(try FileManager.default.contentsOfDirectory(atPath: Self.plotsDir.path).filter { $0.hasSuffix(".gp") })
        XCTAssertEqual(scripts, ["landscape.gp", "landscape1d.gp", "layer-mse.gp", "convergence-loss.gp", "convergence-metric.gp",
                                 "fig1-relative-time.gp", "hessian-hist.gp", "hessian-density.gp", "speed-ratios.gp", "quant-ranges.gp",
                                 "curvature.gp", "minibatch-eigs.gp", "oscillation.gp", "intervention-map.gp",
                                 "landscape-trajectory.gp", "roughness.gp",
                                 "sensitivity-blocks.gp", "sensitivity-pareto.gp"], "a script without a rendering test")
        for url in report.rendered { try assertImage(url) }
        // The step-1 series is on Fig. 3c, Figure 1's legend carries the crossings and ratios, Fig. 4a's axis names the CE.
        let figure = { (name: String) in  // titles reach gnuplot with no-break spaces
            try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8).replacingOccurrences(of: "\u{00A0}", with: " ")
        }
        XCTAssertTrue(try figure("convergence-metric.svg").contains("TI-G step 1 (intervened)"))
        XCTAssertTrue(try figure("fig1-relative-time.svg").contains("target at 0.2 (0.533× KD"), "the crossing and ratio of TI-G")
        XCTAssertTrue(try figure("fig1-relative-time.svg").contains("relative to KD"))
        XCTAssertTrue(try figure("convergence-loss.svg").contains("training cross-entropy"))
        XCTAssertTrue(try figure("curvature.svg").contains("step 1 (intervention)"), "step 1 shaded from figure.json")
        XCTAssertTrue(try figure("minibatch-eigs.svg").contains("whole run") && figure("minibatch-eigs.svg").contains("step 2"), "a panel per phase")
        XCTAssertTrue(try figure("oscillation-TI-G.svg").contains("TI step 1"), "TI-G's step 1 is shaded")
        XCTAssertFalse(try figure("oscillation-KD.svg").contains("TI step 1"), "KD has no step 1")
        if let keep = ProcessInfo.processInfo.environment["TILANDSCAPE_KEEP_FIGURES"] {
            for url in report.rendered { try? FileManager.default.copyItem(at: url, to: URL(fileURLWithPath: keep).appendingPathComponent(url.lastPathComponent)) }
        }
    }

    func testMissingDataIsSkippedWithAReason() throws {
        let figures = try figureSet()
        let run = Toy.tempDir("figures-empty")
        defer { try? FileManager.default.removeItem(at: run) }
        try write("step,phase,lr,loss\n0,1,0.1,1.0\n10,1,0.1,0.5\n", run, "convergence/train-KD.csv")
        try write("step,phase,metric\n0,1,0.5\n10,1,0.6\n", run, "convergence/dev-KD.csv")
        let report = try figures.renderAll(runDir: run, figuresDir: run.appendingPathComponent("figures"))
        XCTAssertEqual(report.rendered.map(\.lastPathComponent), ["convergence-loss.png", "convergence-loss.svg"])
        XCTAssertTrue(report.skipped.contains { $0.contains("teacher") }, "\(report.skipped)")
        XCTAssertTrue(report.skipped.contains { $0.contains("speed-ratios.csv") }, "\(report.skipped)")
    }

    /// The quant-ranges figure highlights the site holding the widest dimension, and a CSV without any
    /// finite SQNR of the requested kind is the script's clear error, not an empty plot.
    func testQuantRangesHighlightsTheOutlierSiteAndRejectsEmptyKinds() throws {
        let figures = try figureSet()
        let run = try makeRunDir()
        defer { try? FileManager.default.removeItem(at: run) }
        let dims = run.appendingPathComponent("quant-report/quant-dims.csv"), sites = run.appendingPathComponent("quant-report/quant-sites.csv")
        // renderAll picks the highlighted site itself; the SVG's legend names it.
        _ = try figures.renderAll(runDir: run, figuresDir: run.appendingPathComponent("figures"))
        let svg = try String(contentsOf: run.appendingPathComponent("figures/quant-ranges.svg"), encoding: .utf8)
        XCTAssertTrue(svg.contains("ffnResidual.1"), "the outlier site is highlighted")
        // Rows after PEG's (whose label once held a comma) still get their bar: the last site's tic is drawn.
        XCTAssertTrue(svg.contains("outputInput.1"), "every finite-SQNR activation site has a bar")
        let png = run.appendingPathComponent("q.png")
        try figures.gnuplot.render(script: Self.plotsDir.appendingPathComponent("quant-ranges.gp"),
                                   variables: try FigureSpec.quantRanges(dims: dims, sites: sites, kind: "weight", logY: true).variables,
                                   outputs: [png])
        try assertImage(png)
        try "kind,name,quantizer,bits,lo,hi,sqnr_db,count\nactivation,logits.0,x,8,-1,1,inf,4\n".write(to: sites, atomically: true, encoding: .utf8)
        let bad = run.appendingPathComponent("bad.png")
        XCTAssertThrowsError(try figures.gnuplot.render(script: Self.plotsDir.appendingPathComponent("quant-ranges.gp"),
                                                        variables: try FigureSpec.quantRanges(dims: dims, sites: sites).variables,
                                                        outputs: [bad])) { error in
            XCTAssertTrue("\(error)".contains("finite SQNR"), "\(error)")
        }
        XCTAssertThrowsError(try FigureSpec.quantRanges(dims: dims, sites: sites, kind: "bias"))
    }

    func testGnuplotErrorsAreClearAndLeaveNoImage() throws {
        let figures = try figureSet()
        let dir = Toy.tempDir("figures-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("bad.png")
        // A required variable missing: the script's own message comes through.
        XCTAssertThrowsError(try figures.gnuplot.render(script: Self.plotsDir.appendingPathComponent("speed-ratios.gp"),
                                                        variables: [:], outputs: [png])) { error in
            XCTAssertTrue("\(error)".contains("set datafile="), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: png.path))
        XCTAssertThrowsError(try figures.gnuplot.render(script: Self.plotsDir.appendingPathComponent("speed-ratios.gp"),
                                                        variables: ["bad name": "x"], outputs: [png]))
        XCTAssertThrowsError(try Gnuplot.locate(environment: ["PATH": dir.path])) { error in
            XCTAssertTrue("\(error)".contains("gnuplot not found"), "\(error)")
        }
        // Quotes in values are escaped, not interpreted.
        let csv = dir.appendingPathComponent("r.csv")
        try "quantity,ratio\nit's,2\n".write(to: csv, atomically: true, encoding: .utf8)
        try figures.gnuplot.render(script: Self.plotsDir.appendingPathComponent("speed-ratios.gp"),
                                   variables: ["datafile": csv.path, "title": "O'Neil's \"ratios\""], outputs: [png])
        try assertImage(png)
    }

    func testLogScaleAndDivergedPointsStillRender() throws {
        let figures = try figureSet()
        let dir = Toy.tempDir("figures-nan")
        defer { try? FileManager.default.removeItem(at: dir) }
        var grid = "# synthetic\n"
        for iy in 0..<5 {
            for ix in 0..<5 {
                let x = -1 + 0.5 * Double(ix), y = -1 + 0.5 * Double(iy)
                let v = (ix == 4 && iy == 4) ? Double.infinity : (ix == 0 && iy == 2 ? Double.nan : 0.1 + x * x + 2 * y * y)
                grid += "\(x) \(y) \(v)\n"
            }
            grid += "\n"
        }
        let file = dir.appendingPathComponent("grid-KD-loss.dat")
        try grid.write(to: file, atomically: true, encoding: .utf8)
        let spec = try FigureSpec.landscape(name: "log", gridFiles: [file, file], titles: ["KD", "TI G"], logZ: true)
        XCTAssertEqual(spec.variables["titles"], "KD TI\u{00A0}G", "spaces inside a title must not split it")
        for url in try figures.render(spec, into: dir) { try assertImage(url) }
        XCTAssertThrowsError(try FigureSpec.layerMSE(csv: URL(fileURLWithPath: "/tmp/with space/x.csv"), modes: ["KD"]))
    }
}
