import InfillDiagnostics

/// The strict YAML reader of `InfillDiagnostics` (positions on every node, did-you-mean for
/// unknown keys), under the names the pipeline, template and tone decoders use.
typealias YAMLNode = InfillDiagnostics.YAMLNode
typealias YAMLParsing = InfillDiagnostics.YAMLParsing

/// A value with the place in a user's file it came from (`InfillDiagnostics.Located`).
public typealias Located<Value: Sendable & Hashable> = InfillDiagnostics.Located<Value>
