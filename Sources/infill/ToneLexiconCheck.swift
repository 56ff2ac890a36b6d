import InfillDocuments

/// Stops a command that fills or checks documents at start, with exit 2 and one clear line,
/// when the binary was installed without its resource bundle (the tone lexicons), instead of
/// failing at the first toned field.
func requireToneLexicons() throws {
    do {
        try ToneLexicon.checkInstalled()
    } catch {
        throw CLIError.usage(error.description)
    }
}
