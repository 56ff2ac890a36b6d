/// A position in a user's file: what every error message points at.
///
/// Lines and columns count from 1; columns count Unicode scalars, as libyaml's marks do, so a
/// position reported for a template and one reported by Yams for a pipeline mean the same thing.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as the user named it (or a label such as `<inbox>/NAME`).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, in Unicode scalars.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and terminals link to.
    public var description: String { "\(file):\(line):\(column)" }
}
