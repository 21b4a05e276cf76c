// Helper processes that tests start, watch and kill (a real SIGKILL needs a process of its own).
//   tianalyze-test-child landscape-slow-run DIR   the toy landscape run of KillResumeTests, slowed down
import Foundation
import TILandscape
import TILandscapeToy

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "landscape-slow-run" where args.count == 2:
        let (config, space) = try Toy.slowRunSetup()
        let slow = ToyEvaluator()
        slow.delay = 0.05
        try LandscapeRun(config: config, space: space, outDir: URL(fileURLWithPath: args[1])).run(slow)
    default:
        FileHandle.standardError.write(Data("usage: tianalyze-test-child landscape-slow-run DIR\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("tianalyze-test-child: \(error)\n".utf8))
    exit(1)
}
