import InfillModel

/// How a lowercase keyword opens a sentence when it does not fit the one before it.
///
/// A paragraph's keyword openers (``GapConstraints/keywordOpeners``) are articles and
/// possessives, which make a noun the sentence's subject ("The collar is missing."). A verb
/// after them does not read ("The simmer for 1 minute.", "Your thank you to all …"); it opens
/// its sentence after a subject instead ("We thank you for …", "Then simmer …"). Which one a
/// keyword is, the parent says: a keyword about as likely after a subject as after an article
/// (within ``subjectMargin``) is a verb.
enum KeywordOpening: Sendable, Equatable {
    /// After an article or possessive (``articles``).
    case afterArticle
    /// After a subject (``subjects``).
    case afterSubject

    /// The words that open a sentence before a noun: "The vaccination is …", "Your call …".
    static let articles = ["The", "Your", "Our"]
    /// The words that open a sentence before a verb: "We thank you …", "Then simmer …".
    /// (`Please`, tried for every keyword before verbs and nouns were told apart, wrote
    /// "Please onboarding.")
    static let subjects = ["We", "I", "Then"]

    /// The openers of this kind of keyword.
    var words: [String] { self == .afterArticle ? Self.articles : Self.subjects }

    /// How much less likely (nats) a keyword may be after its likeliest subject than after its
    /// likeliest article and still count as a verb: the imperative of a recipe or a notice
    /// (`simmer`, `wait`) is rare after any subject, but rarer still after an article.
    static let subjectMargin = 1.0

    /// The text before the opener in both measurements: a sentence has just ended.
    static let lead = "Thanks.\n\n"

    /// Judges `keyword` (its tokens as the compiler writes them) with the parent: the keyword's
    /// log-likelihood right after its likeliest subject against after its likeliest article.
    static func judge(_ keyword: [TokenID], tokenizer: any Tokenizer, parent: any ParentModel) throws -> KeywordOpening {
        func nll(after opener: String) throws -> Double {
            let prefix = tokenizer.encode(lead + opener)
            return try parent.tokenNLLs(of: prefix + keyword, from: prefix.count).reduce(0, +)
        }
        let subject = try subjects.map { try nll(after: $0) }
        let article = try articles.map { try nll(after: $0) }
        return (subject.min() ?? .infinity) < (article.min() ?? .infinity) + subjectMargin ? .afterSubject : .afterArticle
    }
}

extension ConstraintCompiler {
    /// The opener tokens for one kind of keyword: its words that are single tokens, with and
    /// without a leading space.
    func openerTokens(_ kind: KeywordOpening) -> Set<TokenID> { singleTokens(kind.words) }

    /// The single tokens of `words`, each with and without a leading space.
    func singleTokens(_ words: [String]) -> Set<TokenID> {
        Set(words.flatMap { word in
            [word, " " + word].compactMap { text -> TokenID? in
                let ids = tokenizer.encode(text)
                return ids.count == 1 ? ids[0] : nil
            }
        })
    }
}
