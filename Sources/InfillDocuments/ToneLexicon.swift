import Foundation

/// The tone lexicons, read once from the resource files in `Lexicons/` (`Bundle.module`): VADER
/// valences and the project's register word lists.
///
/// `tools/tones/generate.py` writes the files: `vader.tsv` (VADER 3.3.2, MIT licence (c) 2014
/// C.J. Hutto; plain words only) and `formal.txt`, `casual.txt`, `cautious.txt`, `enthusiastic.txt`
/// (written for Infill; see docs/PIPELINES.md, "Tone lexicons").
package enum ToneLexicon {
    /// VADER mean valence (−4…4) by lower-case word.
    static let vader: [String: Double] = {
        var out: [String: Double] = [:]
        for line in text(of: "vader.tsv").split(separator: "\n") {
            let parts = line.split(separator: "\t")
            if parts.count == 2, let v = Double(parts[1]) { out[String(parts[0])] = v }
        }
        return out
    }()

    /// A project word list (`formal`, `casual`, `cautious`, `enthusiastic`) as weights:
    /// `+word` → +1, `-word` → −1.
    static func list(named name: String) -> [String: Double] {
        list(text(of: name + ".txt"))
    }

    /// Word-list text as weights: `+word` → +1, `-word` → −1.
    static func list(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            guard let sign = line.first else { continue }
            out[String(line.dropFirst())] = sign == "-" ? -1 : 1
        }
        return out
    }

    /// The folder SwiftPM's resource bundle of this target has next to the binary.
    package static let bundleName = "Infill_InfillDocuments.resources"

    /// Checks that the lexicons can be read where an installed binary looks for them (next to
    /// itself), and reads them: a binary copied without its resource bundle stops at start with
    /// this error instead of at the first toned field.
    package static func checkInstalled() throws(DocumentError) {
        let beside = Bundle.main.bundleURL.appendingPathComponent(bundleName).path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: beside, isDirectory: &isFolder), isFolder.boolValue else {
            throw DocumentError(
                "the tone lexicons are missing: \(beside) does not exist",
                hint: "install the folder \(bundleName) from the build folder (.build/release) next to the binary, "
                    + "as systemd/README.md does")
        }
        _ = ToneCatalog.builtInNames.map { ToneCatalog.builtIn($0) }
    }

    /// The text of one file in the bundle's `Lexicons/` folder.
    private static func text(of file: String) -> String {
        let name = (file as NSString).deletingPathExtension, ext = (file as NSString).pathExtension
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Lexicons"),
              let data = FileManager.default.contents(atPath: url.path) else {
            fatalError("the tone lexicon \(file) is missing from \(Bundle.module.bundlePath)/Lexicons")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
