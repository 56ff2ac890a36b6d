import Foundation
import InfillDiagnostics
import InfillDocuments

/// Fills written by a person for the quality benchmark's templates: the calibration row that
/// says what the fluency judge gives human prose in the same place.
///
/// The file is YAML: template file name → field name → text, for example
///
///     checkout-outage.postmortem.md:
///       summary: "The 4.18 release of the checkout API …"
package struct HumanReferences: Sendable {
    /// Template name → field name → text.
    package var fills: [String: [String: String]]

    package init(fills: [String: [String: String]] = [:]) {
        self.fills = fills
    }

    /// Reads a references file; errors name the file, line and column.
    package init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DocumentError("cannot read the references file", file: path)
        }
        let locate: YAMLParsing.Locator = { SourceLocation(file: path, line: $0, column: $1) }
        guard let root = try YAMLParsing.parse(String(decoding: data, as: UTF8.self), locate: locate) else {
            self.init()
            return
        }
        var fills: [String: [String: String]] = [:]
        for template in try root.namedEntries(what: "the references") {
            var fields: [String: String] = [:]
            for field in try template.value.namedEntries(what: "the references of '\(template.key)'") {
                fields[field.key] = try field.value.string("the reference for '\(template.key)' field '\(field.key)'")
            }
            fills[template.key] = fields
        }
        self.init(fills: fills)
    }
}
