/// A benchmark was asked for something it cannot do (a bad option value, a missing template);
/// the command line reports it as a usage error (exit 2).
package struct BenchUsageError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) {
        self.description = description
    }
}
