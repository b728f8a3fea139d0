// swift-tools-version:5.9
import PackageDescription

/// Linker flags that link Foundation and what it needs (CoreFoundation, ICU) statically into the
/// `hwr` command, with the Swift runtime (-static-stdlib): the driver names only libFoundation.a when
/// the modules were compiled against the shared Foundation. One group, as they refer to each other.
/// FoundationNetworking comes with FlyingFox (the metrics server) and needs Debian's libcurl4.
let staticFoundation = ["Foundation", "FoundationNetworking", "FoundationInternationalization", "FoundationEssentials",
                        "CoreFoundation", "_CFURLSessionInterface", "_FoundationICU", "_FoundationCollections",
                        "_FoundationCShims", "swiftSynchronization", "swiftDispatch", "dispatch", "BlocksRuntime",
                        ":libcurl.so.4", "stdc++", "m"]
    .reduce(["-Xlinker", "--start-group"]) { $0 + ["-Xlinker", "-l\($1)"] } + ["-Xlinker", "--end-group"]

/// hwr: handwriting recognition engine. One module per concern:
/// kernels (HWRKernels), model and file format (HWRModel), preprocessing (HWRImage), CTC decoding (HWRDecoding),
/// training (HWRTraining), recognition service over a loaded model (HWRRecognition), wire API
/// (HWRProto, generated from proto/hwr.proto), ZeroMQ worker hosting libhwr.so (HWRWorker), C ABI (HWRCAPI -> libhwr.so), command line (HWRCLI -> hwr).
let package = Package(
    name: "hwr",
    products: [
        .library(name: "hwr", type: .dynamic, targets: ["HWRCAPI"]),
        // SwiftPM cannot give a library and an executable the same product name; the install
        // step (scripts/install.sh) installs this binary as `hwr`.
        .executable(name: "hwr-cli", targets: ["HWRCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C surfaces
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CImageCodecs", path: "Sources/CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("exif")]),
        .systemLibrary(name: "CHwr", path: "include"),
        .systemLibrary(name: "CZMQ", path: "Sources/CZMQ"),
        .target(name: "CLoader", path: "Sources/CLoader"),
        .target(name: "CInt8Kernels", path: "Sources/CInt8Kernels"),

        // Swift modules
        // -Ounchecked on the kernels only: their loops index raw buffers whose sizes the model loader
        // has checked. HWRModel parses untrusted model files and keeps Swift's checks.
        .target(name: "HWRKernels", dependencies: ["CBLAS", "CInt8Kernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
        .target(name: "HWRModel", dependencies: ["HWRKernels", "CZlib"]),
        .target(name: "HWRImage", dependencies: ["CImageCodecs"]),
        .target(name: "HWRDecoding", dependencies: ["HWRKernels"]),
        .target(name: "HWRLayout", dependencies: ["HWRImage"]),
        .target(name: "HWRTraining", dependencies: ["HWRKernels", "HWRModel", "HWRImage", "HWRDecoding", "HWRRecognition", "CZlib",
                                                   .product(name: "SwiftCSV", package: "SwiftCSV")]),
        .target(name: "HWRRecognition", dependencies: ["CLoader", "HWRLayout", "HWRModel", "HWRImage", "HWRKernels", "HWRDecoding",
                                                      .product(name: "Logging", package: "swift-log")]),
        .target(name: "HWRCAPI", dependencies: ["CHwr", "HWRLayout", "HWRRecognition", .product(name: "Logging", package: "swift-log")],
                // The Swift runtime linked in (-static-stdlib) so that the library needs no toolchain at
                // run time; FoundationEssentials' own static dependencies named, as the driver does
                // not add them for a shared library; --no-undefined makes a missing one (Foundation
                // imported by an engine module, say) fail the link instead of the host's dlopen.
                linkerSettings: [.unsafeFlags(["-static-stdlib", "-l_FoundationCollections", "-l_FoundationCShims",
                                               "-Xlinker", "--no-undefined",
                                               "-Xlinker", "--version-script=include/hwr.exports.map",
                                               // SONAME carries the ABI version (HWR_ABI_VERSION).
                                               "-Xlinker", "-soname=libhwr.so.1"])]),
        .target(name: "HWRProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(name: "HWRWorker", dependencies: [
            "CHwr", "CZMQ", "HWRProto",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "FlyingFox", package: "FlyingFox"),
            .product(name: "FlyingSocks", package: "FlyingFox"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .executableTarget(name: "HWRCLI", dependencies: [
            "CHwr", "HWRKernels", "HWRModel", "HWRImage", "HWRLayout", "HWRTraining", "HWRRecognition", "HWRWorker",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], linkerSettings: [.unsafeFlags(["-static-stdlib"] + staticFoundation)]),

        // Tests, one target per module
        .testTarget(name: "HWRKernelsTests", dependencies: ["HWRKernels", "CInt8Kernels"]),
        .testTarget(name: "HWRModelTests", dependencies: ["HWRModel", "HWRKernels"]),
        .testTarget(name: "HWRImageTests", dependencies: ["HWRImage"]),
        .testTarget(name: "HWRDecodingTests", dependencies: ["HWRDecoding", "HWRKernels"]),
        .testTarget(name: "HWRLayoutTests", dependencies: ["HWRLayout", "HWRImage"]),
        .testTarget(name: "HWRTrainingTests", dependencies: ["HWRTraining", "HWRModel"]),
        .testTarget(name: "HWRRecognitionTests", dependencies: ["HWRRecognition", "HWRTraining"]),
        .testTarget(name: "HWRCAPITests", dependencies: []),
        .testTarget(name: "HWRWorkerTests", dependencies: ["HWRWorker", "HWRProto", "CZMQ"]),
        // Fuzz targets (deterministic random inputs; HWR_FUZZ_SECONDS sets their time).
        .testTarget(name: "HWRFuzzTests", dependencies: ["HWRImage", "HWRModel", "HWRDecoding", "HWRWorker"]),
    ]
)
