import Foundation
import SwiftCSV

/// CSV files with a header line (manifests of images, label tables), read with SwiftCSV: quoted
/// fields, commas and line breaks inside quotes, RFC 4180.
public enum CSVManifest {
    /// The rows of `path`, each a dictionary from column name to field.
    /// - Throws: `DataError.badFile` if the file cannot be read or parsed.
    public static func rows(_ path: String) throws -> [[String: String]] {
        do {
            return try CSV<Named>(url: URL(fileURLWithPath: path), delimiter: .comma, loadColumns: false).rows
        } catch {
            throw DataError.badFile("\(path): \(error)")
        }
    }

    /// Where a manifest's `path` value points: itself if absolute, else relative to the folder of
    /// the manifest (the working directory for a manifest named without a folder).
    public static func resolve(_ path: String, relativeTo manifest: String) -> String {
        if path.hasPrefix("/") { return path }
        let folder = (manifest as NSString).deletingLastPathComponent
        return folder.isEmpty ? path : "\(folder)/\(path)"
    }

    /// The rows of `path`, checking that every row has `columns`.
    /// - Throws: `DataError.badFile`, or `DataError.badData` naming the first missing column.
    public static func rows(_ path: String, requiring columns: [String]) throws -> [[String: String]] {
        let rows = try rows(path)
        if let row = rows.first, let missing = columns.first(where: { row[$0] == nil }) {
            throw DataError.badData("\(path): no column \"\(missing)\"")
        }
        return rows
    }
}
