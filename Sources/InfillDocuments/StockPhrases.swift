/// Lines that belong to a template, never inside one of its fields: a letter's salutation and
/// sign-off and the blanks of a form.
///
/// Small instruction-tuned models write a whole letter into whatever gap they are given, closing
/// it early ("I hope you have a wonderful day.\nBest regards,\nYour Name") or opening a new one
/// ("Original message:\nDear Mr. Alvarez,") although the template has its own. Every field
/// bans these phrases as written (capitalised, as they open a line; "your name" in a sentence
/// stays free), unless one of its keywords holds one.
enum StockPhrases {
    static let signOffs = [
        "Best regards", "Best Regards", "Kind regards", "Kind Regards", "Warm regards", "Warm Regards", "Regards,",
        "Sincerely,", "Yours sincerely", "Yours truly", "Yours faithfully", "Best wishes,",
        "Sincerely", "Best,", "Cheers,", "Warmly,",
        // …and the other end of a letter, or of an email quoted whole.
        "Dear", "P.S.", "Original message", "Original Message",
        // …and the labels of a rewriting exercise ("Original:\nThe dog was lost…"), which the
        // corpus's edit pairs taught the model to open a field with.
        "Original:", "Revised:", "Rewritten:",
    ]
    static let blanks = [
        "Your Name", "Your name]", "Your Address", "Your Email", "Your E-mail", "Your Phone", "Your Title", "Your Company",
        "Company Name", "Recipient's Name", "Recipient Name",
    ]
    static let all = signOffs + blanks
}
