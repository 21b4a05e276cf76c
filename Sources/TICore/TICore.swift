// The public face of the model side of tianalyze, for code that uses it as a library: one import
// brings the layers below it. Inside the package each target imports only what it may depend on,
// and the compiler refuses an upward import:
//   TIQuant (quantizers, grids, configs) → TIModel (layers, layout, checkpoints)
//     → TIMethods (objectives, optimizer, QAT methods, training loop) → TIRuns (tasks, runs directory)
@_exported import TIQuant
@_exported import TIModel
@_exported import TIMethods
@_exported import TIRuns
