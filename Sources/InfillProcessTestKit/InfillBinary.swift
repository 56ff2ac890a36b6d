import Foundation

/// The built `infill` binary, next to the test bundle in the build folder.
package func infillBinary() -> URL {
    var url = Bundle.main.bundleURL
    if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
    for candidate in [url.appendingPathComponent("infill"), url.deletingLastPathComponent().appendingPathComponent("infill")]
    where FileManager.default.isExecutableFile(atPath: candidate.path) {
        return candidate
    }
    return url.appendingPathComponent("infill")
}
