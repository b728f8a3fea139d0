import Foundation
import HWRModel
import XCTest

/// Helpers the model-file tests share.
extension XCTestCase {
    /// Asserts that loading `data` fails with `ModelError.badFile` whose message mentions `text`.
    func expectBadFile(_ data: Data, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Model(fileData: data), file: file, line: line) { error in
            guard case let ModelError.badFile(message) = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertTrue(message.contains(text), "\"\(message)\" does not mention \"\(text)\"", file: file, line: line)
        }
    }

    /// The model file `data` (any format version) with its header JSON edited and the checksum
    /// recomputed, so that only the check under test fails.
    func rewritingHeader(_ data: Data, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        let bytes = [UInt8](data)
        let length = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[12..<(12 + length)])) as? [String: Any])
        edit(&header)
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var out = Data(bytes[0..<8])
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        out.append(contentsOf: bytes[(12 + length)..<(bytes.count - 4)])
        withUnsafeBytes(of: crc32(out).littleEndian) { out.append(contentsOf: $0) }
        return out
    }
}
