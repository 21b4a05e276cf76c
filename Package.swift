// swift-tools-version:5.9
import PackageDescription

// Release builds specialize the generic numeric code across module boundaries, so the
// model code in TICore runs as concrete Float/Double loops when called from the CLI or analysis.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

// Linux only (x86-64, Debian's OpenBLAS and LAPACKE): that is where it is built and tested, so no
// `platforms` minimum is claimed. macOS cannot build it as it stands: the CBLAS and CLAPACKE module
// maps need OpenBLAS's cblas.h and a liblapacke on the default search paths, which a stock macOS lacks.
let package = Package(
    name: "tianalyze",
    products: [
        .executable(name: "tianalyze", targets: ["tianalyze"]),
        .library(name: "TICore", targets: ["TICore"]),
        .library(name: "TIAnalysis", targets: ["TIAnalysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE"),
        // OpenMPI (Debian: libopenmpi-dev); only TIMPI and the CLI see it (docs/distributed.md).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
        // No fp contraction: the AVX-512/AVX2/baseline builds of each kernel must round alike.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-ffp-contract=off", "-O3"])]),
        .target(name: "TILinalg", dependencies: ["CBLAS", "CLAPACKE", "CKernels"], swiftSettings: numericSettings),
        .target(name: "TIData", dependencies: ["TILinalg"], swiftSettings: numericSettings),
        // The model side, bottom to top; each target sees only those above it in this list.
        .target(name: "TIQuant", dependencies: ["TILinalg", "TIData"], swiftSettings: numericSettings),
        .target(name: "TIModel", dependencies: ["TIQuant", "TILinalg", "TIData"], swiftSettings: numericSettings),
        .target(name: "TIMethods", dependencies: ["TIModel", "TIQuant", "TILinalg", "TIData"], swiftSettings: numericSettings),
        .target(name: "TIRuns", dependencies: ["TIMethods", "TIModel", "TIQuant", "TILinalg", "TIData"], swiftSettings: numericSettings),
        // Umbrella for library users (re-exports the four above).
        .target(name: "TICore", dependencies: ["TIQuant", "TIModel", "TIMethods", "TIRuns"], swiftSettings: numericSettings),
        .target(name: "TIAnalysis", dependencies: ["TILinalg", "TIData"], swiftSettings: numericSettings),
        .target(name: "TILandscape", dependencies: ["TILinalg", "TIData"], swiftSettings: numericSettings),
        .target(name: "TIPlots", dependencies: ["TIData"]),
        .target(name: "TIMPI", dependencies: ["CMPI", "TILinalg"]),
        .target(name: "TIStudies", dependencies: ["TICore", "TIAnalysis", "TILandscape", "TIPlots", "TIData", "TILinalg"],
                swiftSettings: numericSettings),
        .executableTarget(
            name: "tianalyze",
            dependencies: [
                "TICore", "TIAnalysis", "TIData", "TILandscape", "TIPlots", "TIStudies", "TIMPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericSettings),
        .target(name: "TITestSupport", dependencies: ["TILinalg", "TIData"], path: "Tests/TITestSupport"),
        .testTarget(name: "TILinalgTests", dependencies: ["TILinalg", "TITestSupport"]),
        .testTarget(name: "TIDataTests", dependencies: ["TIData", "TILinalg", "TITestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TICoreTests", dependencies: ["TICore", "TIData", "TILinalg", "TITestSupport"]),
        .testTarget(name: "TIAnalysisTests", dependencies: ["TIAnalysis", "TILinalg", "TITestSupport"]),
        // The landscape toy, shared by the landscape tests and the helper process they kill.
        .target(name: "TILandscapeToy", dependencies: ["TILandscape", "TILinalg"], path: "Tests/TILandscapeToy"),
        .executableTarget(name: "tianalyze-test-child", dependencies: ["TILandscape", "TILandscapeToy"], path: "Tests/TestChild"),
        .testTarget(name: "TILandscapeTests", dependencies: ["TILandscape", "TIPlots", "TITestSupport", "TILandscapeToy", "tianalyze-test-child", "TILinalg"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TIStudies", "TICore", "TIAnalysis", "TILandscape", "TIData", "TILinalg", "TITestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["tianalyze", "TICore", "TIData", "TILandscape", "TITestSupport"]),
        // Collectives and faults of MPICommunicator, run by MPITests under mpirun.
        .executableTarget(name: "tianalyze-mpi-child", dependencies: ["TIMPI", "TILinalg"], path: "Tests/MPIChild"),
        .testTarget(name: "MPITests", dependencies: ["TIMPI", "TILinalg", "TITestSupport", "tianalyze-mpi-child"]),
        .testTarget(name: "ReferenceTests", dependencies: ["TICore", "TIStudies", "TIAnalysis", "TIData", "TILinalg", "TITestSupport"], resources: [.copy("Fixtures")]),
    ]
)
