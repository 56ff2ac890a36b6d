// Prints llama.cpp's raw output logits of a GGUF model for given token ids, as JSON, so the
// engine's logits can be checked against an independent implementation (tools/llama-cpp/
// check-logits.sh). Built by build.sh against the same llama.cpp.
//
//   llama-logits MODEL.gguf ID,ID,... [TOP]
//
// Output: {"rows":[{"position":P,"top":[[id,logit],...]},...]} for every position.
#include "llama.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s MODEL.gguf ID,ID,... [TOP]\n", argv[0]);
        return 2;
    }
    std::vector<llama_token> tokens;
    std::stringstream list(argv[2]);
    for (std::string item; std::getline(list, item, ',');) tokens.push_back(std::atoi(item.c_str()));
    const int top = argc > 3 ? std::atoi(argv[3]) : 5;

    llama_backend_init();
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_model * model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) {
        std::fprintf(stderr, "cannot load %s\n", argv[1]);
        return 1;
    }
    llama_context_params params = llama_context_default_params();
    params.n_ctx = params.n_batch = params.n_ubatch = (uint32_t) tokens.size();
    params.n_threads = params.n_threads_batch = 1;
    llama_context * ctx = llama_init_from_model(model, params);
    if (!ctx) return 1;

    llama_batch batch = llama_batch_init((int32_t) tokens.size(), 0, 1);
    for (size_t i = 0; i < tokens.size(); ++i) {
        batch.token[i] = tokens[i];
        batch.pos[i] = (llama_pos) i;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = 0;
        batch.logits[i] = 1;
    }
    batch.n_tokens = (int32_t) tokens.size();
    if (llama_decode(ctx, batch) != 0) {
        std::fprintf(stderr, "llama_decode failed\n");
        return 1;
    }
    const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    std::printf("{\"rows\":[");
    for (size_t i = 0; i < tokens.size(); ++i) {
        const float * row = llama_get_logits_ith(ctx, (int32_t) i);
        std::vector<int> ids(vocab);
        for (int v = 0; v < vocab; ++v) ids[v] = v;
        std::partial_sort(ids.begin(), ids.begin() + top, ids.end(), [&](int a, int b) { return row[a] > row[b]; });
        std::printf("%s{\"position\":%zu,\"top\":[", i ? "," : "", i);
        for (int k = 0; k < top; ++k) std::printf("%s[%d,%.6g]", k ? "," : "", ids[k], row[ids[k]]);
        std::printf("]}");
    }
    std::printf("]}\n");
    llama_batch_free(batch);
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
