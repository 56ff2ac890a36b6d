// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Infill",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "infill", targets: ["infill"]),
        .library(name: "InfillModel", targets: ["InfillModel"]),
        .library(name: "InfillSampling", targets: ["InfillSampling"]),
        .library(name: "InfillDocuments", targets: ["InfillDocuments"]),
        .library(name: "InfillService", targets: ["InfillService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The daemon's HTTP endpoint (/metrics, /status, /healthz); default traits off (no
        // swift-configuration, which the project does not use).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // SHA-256 of downloaded model files (already in the graph through Hummingbird's TLS stack).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // The shared PostgreSQL queue (`queue:` in infill.yaml).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Layer 0: OpenBLAS through a system-library shim (`libopenblas-dev`).
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Layer 0: diagnostics every layer reports with (did-you-mean suggestions, the strict
        // YAML reader with positions); nothing of the project below it.
        .target(name: "InfillDiagnostics", dependencies: [.product(name: "Yams", package: "Yams")]),
        // Layer 0: the packed matrix kernel of every projection (C with AVX-512 / AVX2 paths chosen
        // at run time, and a portable one).
        .target(name: "CInfillKernels"),
        // Layer 1: tensors, readers, tokenizer, transformer.
        .target(name: "InfillModel", dependencies: ["COpenBLAS", "CInfillKernels", .product(name: "Crypto", package: "swift-crypto")]),
        // What the tests of the built `infill` binary share (CLI and queue tests): where the binary
        // is, a blocking HTTP GET on its endpoint, and a Prometheus sample reader (the in-process
        // endpoint tests read their samples with it too).
        .target(name: "InfillProcessTestKit"),
        // Test doubles of the model protocols, for the higher layers' tests.
        .target(name: "InfillModelTestKit", dependencies: ["InfillModel"]),
        // Layer 2: masked-diffusion sampling.
        .target(name: "InfillSampling", dependencies: ["InfillModel"]),
        // Layer 3: templates, pipelines, constraints, reports.
        // The tone lexicons are resource files (`Lexicons/`, written by tools/tones/generate.py),
        // read through Bundle.module: the bundle `Infill_InfillDocuments.resources` lies next to
        // the binary in the build folder and must be installed next to it (systemd/README.md).
        .target(
            name: "InfillDocuments",
            dependencies: ["InfillDiagnostics", "InfillSampling", "InfillModel", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Lexicons")]
        ),
        // Layer 4: the benchmarks of `infill bench` (performance sections, document quality).
        .target(
            name: "InfillBench",
            dependencies: ["InfillDiagnostics", "InfillDocuments", "InfillSampling", "InfillModel", "COpenBLAS"]
        ),
        // Layer 4: spool, watcher, worker pool, lifecycle.
        .target(
            name: "InfillService",
            dependencies: [
                "InfillDiagnostics",
                "InfillDocuments",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The test double of the daemon's `DocumentProcessor` seam (`EchoProcessor`), for the
        // service's and the shared queue's tests.
        .target(name: "InfillServiceTestKit", dependencies: ["InfillService"]),
        // Layer 4b: the PostgreSQL-backed shared queue (many daemons, one queue).
        .target(
            name: "InfillQueue",
            dependencies: [
                "InfillService",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Layer 5: the daemon's HTTP endpoint (Prometheus metrics, JSON status, health check).
        .target(
            name: "InfillHTTP",
            dependencies: [
                "InfillService",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "infill",
            dependencies: [
                "InfillModel", "InfillSampling", "InfillDocuments", "InfillBench", "InfillService", "InfillHTTP",
                "InfillQueue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Tests read shared fixtures from Tests/Fixtures by #filePath (no resource bundles of their own).
        .testTarget(name: "InfillDiagnosticsTests", dependencies: ["InfillDiagnostics"]),
        .testTarget(name: "InfillModelTests", dependencies: ["InfillModel", "CInfillKernels"]),
        .testTarget(name: "InfillSamplingTests", dependencies: ["InfillSampling", "InfillModelTestKit"]),
        .testTarget(name: "InfillDocumentsTests", dependencies: ["InfillDocuments", "InfillModelTestKit"]),
        .testTarget(name: "InfillBenchTests", dependencies: ["InfillBench", "InfillDocuments"]),
        .testTarget(
            name: "InfillServiceTests", dependencies: ["InfillService", "InfillServiceTestKit", "InfillDiagnostics", "InfillModelTestKit"]),
        .testTarget(
            name: "InfillHTTPTests",
            dependencies: [
                "InfillHTTP", "InfillService", "InfillProcessTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "InfillQueueTests",
            dependencies: [
                "InfillQueue", "InfillService", "InfillServiceTestKit", "infill", "InfillProcessTestKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End-to-end tests of the built `infill` binary.
        .testTarget(name: "InfillCLITests", dependencies: ["infill", "InfillProcessTestKit"]),
    ]
)
