/// A problem with the spool folders themselves (as opposed to one document's content).
public enum SpoolError: Error, Sendable, CustomStringConvertible {
    /// The folders could not be set up or locked; the daemon cannot start.
    case setup(String)
    /// A file operation failed (disk full, permission denied, …).
    case io(SystemError)
    /// The processor produced an output name that is not a plain file name.
    case badOutputName(String)
    /// A claimed input is not something the daemon fills (a FIFO, a huge file, …); permanent.
    case refused(String, InputRefusal)

    /// False when retrying later may succeed (disk full, out of memory), as for a `Diagnostic`.
    public var isPermanent: Bool {
        if case .io(let error) = self { return error.isPermanent }
        return true
    }

    public var description: String {
        switch self {
        case .setup(let message): message
        case .io(let error): error.description
        case .badOutputName(let name):
            "output name '\(name)' is not a plain file name (it must not be empty or contain '/', "
                + "and at most \(SpoolLayout.maxNameBytes) bytes long)"
        case .refused(let path, let refusal): "\(path): \(refusal)"
        }
    }
}
