import Foundation
import InfillProcessTestKit

/// The outcome of one run of the built `infill` binary.
struct InfillRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `infill ARGS` to completion and captures its output.
func runInfill(_ arguments: [String], currentDirectory: URL? = nil, environment: [String: String]? = nil) throws -> InfillRun {
    let process = Process()
    process.executableURL = infillBinary()
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting so a chatty child cannot block on a full pipe.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return InfillRun(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self)
    )
}
