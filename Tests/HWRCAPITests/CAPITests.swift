import Foundation
import XCTest

/// The C ABI as a C host sees it: the header compiles as C99 and C++ with warnings as errors, the
/// library exports exactly the header's functions, and a C program drives every call and error path.
/// Needs libhwr.so built first (`swift build -c release --product hwr`; scripts/test.sh does it).
final class CAPITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hwr-capi-\(getpid())").path

    /// The most recently built libhwr.so of this checkout.
    func libraryDirectory() throws -> String {
        let candidates = ["release", "debug"].map { "\(Self.root)/.build/\($0)" }
            .filter { FileManager.default.fileExists(atPath: "\($0)/libhwr.so") }
        let newest = candidates.max { a, b in
            let da = (try? FileManager.default.attributesOfItem(atPath: "\(a)/libhwr.so")[.modificationDate] as? Date) ?? .distantPast
            let db = (try? FileManager.default.attributesOfItem(atPath: "\(b)/libhwr.so")[.modificationDate] as? Date) ?? .distantPast
            return da < db
        }
        guard let newest else { throw XCTSkip("libhwr.so not built: run `swift build -c release --product hwr` first") }
        return newest
    }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    func testHeaderCompilesAsC99AndCxxWithWarningsAsErrors() throws {
        let tu = "\(scratch)/only_header.c"
        try "#include \"hwr.h\"\nint main(void) { return HWR_OK + HWR_ABI_VERSION - 1; }\n".write(toFile: tu, atomically: true, encoding: .utf8)
        let c = try run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I\(Self.root)/include", tu, "-o", "\(scratch)/c99"])
        XCTAssertEqual(c.status, 0, c.output)
        let cxx = try run(["c++", "-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I\(Self.root)/include", tu, "-o", "\(scratch)/cxx"])
        XCTAssertEqual(cxx.status, 0, cxx.output)
    }

    func testLibraryExportsExactlyTheHeadersFunctions() throws {
        let header = try String(contentsOfFile: "\(Self.root)/include/hwr.h", encoding: .utf8)
        let declared = Set(header.components(separatedBy: "HWR_API ").dropFirst().compactMap { decl -> String? in
            guard let paren = decl.firstIndex(of: "(") else { return nil }
            return decl[..<paren].split(whereSeparator: { " *\n".contains($0) }).last.map(String.init)
        }.filter { $0.hasPrefix("hwr_") })
        XCTAssertGreaterThan(declared.count, 20)
        let nm = try run(["nm", "-D", "--defined-only", "--extern-only", "\(try libraryDirectory())/libhwr.so"])
        XCTAssertEqual(nm.status, 0, nm.output)
        let exported = Set(nm.output.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) })
        XCTAssertEqual(exported.subtracting(declared), [], "exported but not in hwr.h")
        XCTAssertEqual(declared.subtracting(exported), [], "declared in hwr.h but not exported")
    }

    func testCProgramDrivesEveryCallAndErrorPath() throws {
        let lib = try libraryDirectory()
        let exe = "\(scratch)/abi_test"
        let build = try run(["cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I\(Self.root)/include",
                             "\(Self.root)/Tests/CHost/abi_test.c", "-o", exe, "-L\(lib)", "-lhwr",
                             "-Wl,-rpath,\(lib)", "-lpthread"])
        XCTAssertEqual(build.status, 0, build.output)
        let manifest = try String(contentsOfFile: "\(Self.root)/Tests/Fixtures/lines/manifest.csv", encoding: .utf8)
        let word = try XCTUnwrap(manifest.split(separator: "\n").first { $0.hasPrefix("word-000.png,") }?.split(separator: ",")[1])
        let result = try run([exe, "\(Self.root)/Tests/Fixtures", String(word)],
                             environment: ["HWR_MODEL": "\(Self.root)/models/hwr-char.hwrm",
                                           "HWR_LINE_MODEL": "\(Self.root)/models/hwr-line.hwrm"])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains(" passed, 0 failed"), result.output)
    }
}
