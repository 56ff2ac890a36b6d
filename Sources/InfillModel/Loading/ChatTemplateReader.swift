import Foundation

/// Reads a model's ``ChatTemplate`` from where each format keeps it and recognises it.
///
/// A template that is missing, unreadable or of no family the engine renders is not an error:
/// the model then has no chat template (``ChatTemplate/Recognition``) and `infill model info`
/// says why.
public enum ChatTemplateReader {
    /// The template of a GGUF file: `tokenizer.chat_template`, its `bos_token` the text of
    /// `tokenizer.ggml.bos_token_id`.
    public static func recognition(of file: GGUFFile, tokenizer: any Tokenizer) -> ChatTemplate.Recognition {
        guard let source = file["tokenizer.chat_template"]?.stringValue else { return .absent }
        let bos = file["tokenizer.ggml.bos_token_id"]?.intValue.flatMap { id -> String? in
            guard id >= 0, id < tokenizer.vocabularySize, tokenizer.isSpecial(TokenID(id)) else { return nil }
            return tokenizer.decode([TokenID(id)], skipSpecial: false)
        }
        return ChatTemplate.recognise(source, beginToken: bos).checked(against: tokenizer)
    }

    /// The template of an HF model folder: `chat_template` of `tokenizer_config.json` (a string,
    /// or a list of `{name, template}` of which the one named `default` is taken), else the file
    /// `chat_template.jinja`; its `bos_token` is the config's (a string or `{content: …}`).
    public static func recognition(folder: String, tokenizer: any Tokenizer) -> ChatTemplate.Recognition {
        let path = folder + "/tokenizer_config.json"
        var config: [String: Any] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                return .unrecognised("tokenizer_config.json is not a JSON object")
            }
            config = object
        }
        let source: String
        switch config["chat_template"] {
        case let text as String:
            source = text
        case let list as [Any]:
            let named = list.compactMap { $0 as? [String: Any] }
            guard let entry = named.first(where: { $0["name"] as? String == "default" }),
                  let text = entry["template"] as? String else {
                return .unrecognised("tokenizer_config.json's chat_template list has no template named 'default'")
            }
            source = text
        case nil:
            guard let data = FileManager.default.contents(atPath: folder + "/chat_template.jinja") else { return .absent }
            source = String(decoding: data, as: UTF8.self)
        default:
            return .unrecognised("tokenizer_config.json's chat_template is neither a string nor a list")
        }
        let bos: String? = switch config["bos_token"] {
        case let text as String: text
        case let object as [String: Any]: object["content"] as? String
        default: nil
        }
        return ChatTemplate.recognise(source, beginToken: bos).checked(against: tokenizer)
    }
}
