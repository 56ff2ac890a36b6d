"""Renders the reference models' chat templates with Jinja2, for the engine's own renderer
(Sources/InfillModel/Tokenizer/ChatTemplate.swift), into Tests/Fixtures/.

    python3 tools/reference/chat_templates.py

Outputs:
  chat-templates.json      every template text below, the family the engine should recognise in
                           it (or null: unrecognised), its default system prompt and begin token,
                           and two renderings per conversation, made as transformers makes them
                           (jinja2 with trim_blocks and lstrip_blocks):
                             start: [user] with add_generation_prompt (what precedes the document)
                             full:  [user, assistant] without it (the document's turn closed)
  chat-template.gguf       a GGUF with only metadata: a tiny byte-level vocabulary with Llama 3's
                           turn tokens as control tokens, bos_token_id naming <|startoftext|>, and
                           LLaDA-8B-Instruct's template in tokenizer.chat_template
  chat-templates/*/tokenizer_config.json   HF tokenizer configs: LLaDA-8B-Instruct's (a string
                           template and its bos_token), a list-form config ({name, template}, the
                           "default" one Dream's), one with an unrecognised template

The template texts: SmolLM2-135M-Instruct's is read from its GGUF when it is in the cache
(~/.cache/infill/models, `infill model fetch`) and checked against the copy below; Dream-v0-
Instruct-7B's (Qwen2's template with the default system prompt "You are a helpful assistant.")
and LLaDA-8B-Instruct's (Llama 3's, with bos_token <|startoftext|>) are as their published
tokenizer_config.json files give them, written from memory: no network was available to check
them byte for byte.
"""
from __future__ import annotations

import json
import os

import jinja2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures")
SMOLLM_GGUF = os.path.expanduser("~/.cache/infill/models/SmolLM2-135M-Instruct.Q4_1.gguf")

SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

DREAM = (
    "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n    {%- else %}\n        {{- 'You are a helpful assistant.' }}\n"
    "    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n        {{- \"\\n\" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": "
    "<args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n"
    "{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or "
    "(message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n            {{- '\\n' + message.content }}\n        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n        {%- endfor %}\n        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n        {%- endif %}\n        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n"
)

LLADA = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim "
    "+ '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

# ChatML written as raw text between tags, without a default system turn.
CHATML_PLAIN = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Llama 3 with a literal begin token and a default system turn.
LLAMA3_SYSTEM = (
    "<|begin_of_text|>{% if messages[0]['role'] != 'system' %}"
    "{{ '<|start_header_id|>system<|end_header_id|>\\n\\nYou write documents.<|eot_id|>' }}{% endif %}"
    "{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' "
    "+ message['content'] + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

# Gemma's turns: no family the engine renders.
GEMMA = (
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' "
    "else message['role'] %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"
)

TEMPLATES = [
    dict(name="SmolLM2-135M-Instruct", template=SMOLLM2, bos_token="<|im_start|>", family="ChatML",
         default_system_prompt="You are a helpful AI assistant named SmolLM, trained by Hugging Face",
         begin_token=None, trims_content=False),
    dict(name="Dream-v0-Instruct-7B", template=DREAM, bos_token=None, family="ChatML",
         default_system_prompt="You are a helpful assistant.", begin_token=None, trims_content=False),
    dict(name="LLaDA-8B-Instruct", template=LLADA, bos_token="<|startoftext|>", family="Llama 3",
         default_system_prompt=None, begin_token="<|startoftext|>", trims_content=True),
    dict(name="ChatML without a system turn", template=CHATML_PLAIN, bos_token=None, family="ChatML",
         default_system_prompt=None, begin_token=None, trims_content=False),
    dict(name="Llama 3 with a system turn", template=LLAMA3_SYSTEM, bos_token=None, family="Llama 3",
         default_system_prompt="You write documents.", begin_token="<|begin_of_text|>", trims_content=False),
    dict(name="Gemma", template=GEMMA, bos_token="<bos>", family=None,
         default_system_prompt=None, begin_token=None, trims_content=False),
]

CONVERSATIONS = [
    dict(user="Fill in the document.\nsummary: Two sentences for the board.",
         assistant="# Launch\n\nThe launch moved to May.\n"),
    dict(user="Fill in the document.\nclosing line: Warm, one line.\nproduct name: Invent one.",
         assistant="  Dear team,\n\nthanks for a great quarter.  \n"),
]


def render(template, bos_token, messages, add_generation_prompt):
    # As transformers' apply_chat_template compiles templates.
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    return env.from_string(template).render(messages=messages, add_generation_prompt=add_generation_prompt,
                                            bos_token=bos_token or "", eos_token="")


def check_smollm():
    if not os.path.exists(SMOLLM_GGUF):
        print(f"{SMOLLM_GGUF} not there: the SmolLM2 template is not checked against the file")
        return
    import gguf

    field = gguf.GGUFReader(SMOLLM_GGUF).fields["tokenizer.chat_template"]
    stored = bytes(field.parts[field.data[0]]).decode()
    assert stored == SMOLLM2, "the SmolLM2 template differs from the GGUF's"
    print("SmolLM2 template: identical to the GGUF's")


def write_gguf(path):
    import gguf

    specials = ["<|endoftext|>", "<|startoftext|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    alphabet = [chr(c) for c in range(ord("!"), ord("~") + 1)] + ["Ġ", "Ċ"]
    tokens = specials + alphabet
    g = gguf.GGUFWriter(path, "llama")
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("gpt2")
    g.add_token_list(tokens)
    g.add_token_types([3] * len(specials) + [1] * len(alphabet))
    g.add_token_merges([])
    g.add_bos_token_id(1)
    g.add_eos_token_id(4)
    g.add_chat_template(LLADA)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def write_configs(folder):
    configs = {
        "llada-instruct": {"bos_token": "<|startoftext|>", "eos_token": "<|eot_id|>", "chat_template": LLADA},
        "list-form": {"bos_token": {"content": "<|endoftext|>", "special": True},
                      "chat_template": [{"name": "tool_use", "template": GEMMA}, {"name": "default", "template": DREAM}]},
        "unrecognised": {"bos_token": "<bos>", "chat_template": GEMMA},
    }
    for name, config in configs.items():
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        with open(os.path.join(folder, name, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)
            f.write("\n")


def main():
    check_smollm()
    fixture = []
    for entry in TEMPLATES:
        renderings = []
        for c in CONVERSATIONS:
            user = {"role": "user", "content": c["user"]}
            assistant = {"role": "assistant", "content": c["assistant"]}
            renderings.append(dict(
                user=c["user"], assistant=c["assistant"],
                start=render(entry["template"], entry["bos_token"], [user], True),
                full=render(entry["template"], entry["bos_token"], [user, assistant], False)))
        fixture.append(dict(entry, renderings=renderings))
    with open(os.path.join(OUT, "chat-templates.json"), "w") as f:
        json.dump(fixture, f, indent=1, ensure_ascii=False)
        f.write("\n")
    write_gguf(os.path.join(OUT, "chat-template.gguf"))
    write_configs(os.path.join(OUT, "chat-templates"))
    print(f"wrote {len(fixture)} templates × {len(CONVERSATIONS)} conversations")


if __name__ == "__main__":
    main()
