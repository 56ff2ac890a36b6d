// An independent fluency judge for `infill bench --quality --judge`: a causal language model of
// another family than Infill's parent (Gemma 3 270M by default, see fetch-model.sh), run by
// llama.cpp, scoring how likely a field's text is after the document before it, and how likely
// the literal text that follows the field then is (does the fill fit its right-hand side?).
//
//   llama-judge MODEL.gguf [THREADS]
//
// Protocol, one request per line on stdin and one answer per line on stdout, in order:
//   request:  CONTEXT \t TEXT \t AFTER      (each with \\, \t, \n escaped as backslash pairs)
//   answer:   TEXT_NLL_SUM \t TEXT_TOKENS \t AFTER_NLL_SUM \t AFTER_TOKENS
// NLL sums are in nats. The context keeps its last 448 tokens, AFTER its first 48. An empty
// line ends the session. Errors go to stderr with a non-zero exit status.
#include "llama.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kContextTokens = 448;
constexpr int kAfterTokens = 48;
constexpr int kTextTokens = 480;

std::string unescape(const std::string & s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
            char c = s[++i];
            out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool bos) {
    if (text.empty()) return bos ? std::vector<llama_token>{llama_vocab_bos(vocab)} : std::vector<llama_token>{};
    int n = -llama_tokenize(vocab, text.data(), (int32_t) text.size(), nullptr, 0, bos, false);
    std::vector<llama_token> tokens(n);
    if (llama_tokenize(vocab, text.data(), (int32_t) text.size(), tokens.data(), n, bos, false) < 0) tokens.clear();
    return tokens;
}

/// -log p(token) from a row of logits.
double nll(const float * row, int vocab, llama_token token) {
    float top = row[0];
    for (int v = 1; v < vocab; ++v) top = row[v] > top ? row[v] : top;
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp((double) (row[v] - top));
    return -((double) (row[token] - top) - std::log(sum));
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf [THREADS]\n", argv[0]);
        return 2;
    }
    const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
    llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) {
        std::fprintf(stderr, "llama-judge: cannot load %s\n", argv[1]);
        return 1;
    }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);
    const int capacity = kContextTokens + kTextTokens + kAfterTokens + 2;
    llama_context_params params = llama_context_default_params();
    params.n_ctx = params.n_batch = params.n_ubatch = (uint32_t) capacity;
    params.n_threads = params.n_threads_batch = threads;
    llama_context * ctx = llama_init_from_model(model, params);
    if (!ctx) {
        std::fprintf(stderr, "llama-judge: cannot create a context\n");
        return 1;
    }
    llama_batch batch = llama_batch_init(capacity, 0, 1);
    for (std::string line; std::getline(std::cin, line) && !line.empty();) {
        const size_t a = line.find('\t'), b = a == std::string::npos ? a : line.find('\t', a + 1);
        if (b == std::string::npos) {
            std::fprintf(stderr, "llama-judge: a request needs three tab-separated parts\n");
            return 1;
        }
        std::vector<llama_token> context = tokenize(vocab, unescape(line.substr(0, a)), true);
        std::vector<llama_token> text = tokenize(vocab, unescape(line.substr(a + 1, b - a - 1)), false);
        std::vector<llama_token> after = tokenize(vocab, unescape(line.substr(b + 1)), false);
        if (context.size() > (size_t) kContextTokens) {
            // Keep the BOS and the most recent tokens.
            std::vector<llama_token> kept{context[0]};
            kept.insert(kept.end(), context.end() - (kContextTokens - 1), context.end());
            context = kept;
        }
        if (text.size() > (size_t) kTextTokens) text.resize(kTextTokens);
        if (after.size() > (size_t) kAfterTokens) after.resize(kAfterTokens);
        std::vector<llama_token> sequence = context;
        sequence.insert(sequence.end(), text.begin(), text.end());
        sequence.insert(sequence.end(), after.begin(), after.end());
        const size_t first = context.size();  // index of the first scored token
        batch.n_tokens = (int32_t) sequence.size();
        for (size_t i = 0; i < sequence.size(); ++i) {
            batch.token[i] = sequence[i];
            batch.pos[i] = (llama_pos) i;
            batch.n_seq_id[i] = 1;
            batch.seq_id[i][0] = 0;
            batch.logits[i] = i + 1 >= first && i + 1 < sequence.size();
        }
        llama_memory_clear(llama_get_memory(ctx), true);
        if (llama_decode(ctx, batch) != 0) {
            std::fprintf(stderr, "llama-judge: llama_decode failed\n");
            return 1;
        }
        double textSum = 0, afterSum = 0;
        for (size_t i = first; i < sequence.size(); ++i) {
            const double x = nll(llama_get_logits_ith(ctx, (int32_t) (i - 1)), n_vocab, sequence[i]);
            (i < first + text.size() ? textSum : afterSum) += x;
        }
        std::printf("%.6f\t%zu\t%.6f\t%zu\n", textSum, text.size(), afterSum, after.size());
        std::fflush(stdout);
    }
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
