// The loop's bookkeeping across phases: the last step-1 loss, the jump when the intervention is
// removed (the paper's Figure 4a), and the wall time including earlier sessions of a resumed run.
import Foundation
import TIQuant
import TIModel

struct LoopState {
    var lastPhaseLoss: Double?
    var jump: Double?
    let elapsedBefore: Double
    let start: Date

    var elapsed: Double { elapsedBefore + Date().timeIntervalSince(start) }

    /// Step 1's last loss, and step 2's first loss minus it.
    mutating func noteLoss(_ loss: Double, local: Int, phase: TrainingPhase) {
        if phase.number == 1 && local == phase.steps - 1 { lastPhaseLoss = loss }
        if phase.number == 2 && local == 0, let last = lastPhaseLoss { jump = loss - last }
    }
}
