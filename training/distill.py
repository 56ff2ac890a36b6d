"""Self-distillation corpus: the AR parent writes everyday documents through its chat template.

SmolLM2-135M-Instruct, asked "Write a short post-mortem for ...", writes fluent (if generic)
Markdown documents. This script varies genre, topic, names, numbers and length, samples with a
KV-cached batched decoder (nucleus sampling, repetition penalty), drops degenerate outputs
(repeated n-grams, too short, no ending) and appends the survivors to
`scratch/distill/<genre>.jsonl`. It is resumable: run it again and it continues the counts, so it
can run under `nice` in the background for as long as the machine allows.

    nice -n 19 python3 training/distill.py --minutes 60
"""
from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gguf_base import DEFAULT_GGUF, build_tokenizer, load_base
from model import apply_rope, rope_tables

HERE = Path(__file__).resolve().parent
OUT = HERE / "scratch" / "distill"
IM_START, IM_END, EOT = 1, 2, 0

# Genres used for training; HELDOUT_GENRES are never trained on (evaluation only).
GENRES = {
    "post-mortem": "a short incident post-mortem for {incident} at {company}, with the sections Summary, Timeline, Impact, Root cause and Action items",
    "status-update": "a weekly status update from the {team} team at {company} about {project}, with sections for progress, next steps and blockers",
    "cover-letter": "a short cover letter from {person} applying for the {role} position at {company}",
    "product-brief": "a product brief for {product} by {company}, with a summary, key features, target customers and risks",
    "meeting-minutes": "the minutes of a {team} team meeting at {company} about {project}, with attendees, decisions and action items",
    "job-ad": "a job advertisement for a {role} at {company}, with responsibilities, requirements and benefits",
    "support-reply": "a polite customer support reply from {company} to a customer who reported that {problem}",
    "newsletter": "a short monthly newsletter from {company} to its customers about {topic}",
    "bug-report": "a bug report for {product}: {problem}. Include steps to reproduce, expected and actual behaviour",
    "invitation": "an invitation to {event} organised by {company} on {date}",
    "release-notes": "release notes for version {version} of {product}, with new features, improvements and bug fixes",
    "email": "a short professional email from {person} to the {team} team about {topic}",
    "announcement": "an internal announcement at {company} about {topic}",
    "policy": "a short company policy at {company} about {policy}",
    "proposal": "a short project proposal at {company} to {goal}, with background, plan, budget and timeline",
    "report": "a short quarterly report of the {team} team at {company}, with results, challenges and next quarter's goals",
    "letter": "a formal letter from {person} to {company} about {topic}",
    "review": "a short performance review of {person}, a {role} at {company}",
}
HELDOUT_GENRES = {
    "travel-itinerary": "a travel itinerary for a {days}-day business trip to {city} for {person}",
    "lab-report": "a short lab report about {experiment}, with aim, method, results and conclusion",
    "grant-summary": "a one-page grant application summary for a project to {goal}",
}

FILL = {
    "company": ["Acme", "Northwind", "Globex", "Initech", "Umbrella Health", "Blue Harbor Bank", "Vertex Labs",
                "Greenfield Foods", "Orbit Logistics", "Lumen Audio", "Riverstone Energy", "Pinecrest School",
                "Maple Software", "Atlas Insurance", "Solstice Travel", "Harbor City Council", "Nimbus Cloud",
                "Redwood Clinic", "Copperline Mining", "Brightpath Tutoring", "Helix Biotech", "Summit Outdoor"],
    "team": ["platform", "marketing", "finance", "design", "sales", "support", "data", "mobile", "security",
             "operations", "research", "HR", "infrastructure", "product", "legal", "customer success"],
    "project": ["the website redesign", "the billing migration", "the new mobile app", "the office move",
                "the data warehouse", "the spring campaign", "the hiring plan", "the API v2 launch",
                "the customer portal", "the cost reduction plan", "the onboarding flow", "the search feature"],
    "incident": ["a two-hour outage of the payments API", "a database failover that lost writes",
                 "a certificate that expired on the login service", "a slow checkout page after a deploy",
                 "an email outage caused by a full disk", "a DNS misconfiguration", "a memory leak in the search service",
                 "a failed backup job", "a broken mobile release", "a traffic spike that overloaded the servers"],
    "person": ["Maria Lopez", "James Chen", "Aisha Khan", "Tom Becker", "Sofia Rossi", "David Kim", "Emma Wilson",
               "Lucas Martin", "Priya Patel", "Noah Johnson", "Hannah Schmidt", "Omar Haddad", "Yuki Tanaka"],
    "role": ["software engineer", "product manager", "data analyst", "marketing coordinator", "nurse", "accountant",
             "teacher", "UX designer", "sales representative", "customer support specialist", "office manager",
             "site reliability engineer", "project coordinator", "warehouse supervisor"],
    "product": ["the Lumen X2 headphones", "the TaskFlow app", "the SmartHome hub", "the CloudSync service",
                "the Trailblazer backpack", "the PayEasy checkout", "the FitTrack watch", "the DocuMind editor",
                "the EcoBrew coffee maker", "the RoadReady car charger", "the StudyBuddy tablet"],
    "problem": ["the app crashes when uploading a photo", "the invoice shows the wrong amount",
                "the password reset email never arrives", "the order arrived damaged", "the export button does nothing",
                "the battery drains overnight", "the dashboard loads very slowly", "the delivery is two weeks late",
                "the subscription was charged twice", "notifications stopped working after the update"],
    "topic": ["the new office opening", "changes to the holiday schedule", "our new product line",
              "a security reminder", "the results of the customer survey", "the upcoming price change",
              "the charity drive", "the new parking rules", "the system maintenance this weekend",
              "the annual conference", "our sustainability goals", "the new expense tool"],
    "event": ["the annual company dinner", "a product launch party", "a free workshop on budgeting",
              "the summer picnic", "a customer webinar", "the opening of our new store", "a charity run",
              "a retirement celebration", "a networking breakfast", "the end-of-year party"],
    "date": ["Friday, March 14", "June 3", "Saturday, September 20", "October 8 at 6 pm", "December 12",
             "Thursday, May 22 at noon", "April 30"],
    "version": ["2.4", "3.0", "1.12", "5.1.2", "0.9", "4.2", "10.3"],
    "policy": ["remote work", "expense claims", "data privacy", "social media use", "travel", "equipment loans",
               "working hours", "visitors in the office", "password security"],
    "goal": ["reduce energy use in our offices", "build a community garden", "improve customer onboarding",
             "translate the website into Spanish", "replace the old billing system", "train staff in first aid",
             "open a second warehouse", "offer free tutoring to local students"],
    "days": ["two", "three", "four", "five"],
    "city": ["Berlin", "Tokyo", "Chicago", "Lisbon", "Toronto", "Singapore", "Nairobi"],
    "experiment": ["the effect of temperature on yeast growth", "measuring the speed of sound",
                   "plant growth under different light colours", "the boiling point of salt water"],
}
STYLES = ["", " Keep it under 200 words.", " Use Markdown headings.", " Use Markdown headings and bullet lists.",
          " Be concise.", " Use a friendly tone.", " Use a formal tone.", " Include concrete numbers and dates."]


def make_prompt(genre: str, pattern: str, rng: random.Random) -> str:
    text = re.sub(r"\{(\w+)\}", lambda m: rng.choice(FILL[m.group(1)]), pattern)
    return f"Write {text}.{rng.choice(STYLES)}"


class ARDecoder:
    """Batched, KV-cached causal decoding of the base model (bf16 weights, fp32 logits)."""

    def __init__(self, cfg, sd, dtype=torch.bfloat16):
        self.cfg = cfg
        self.dt = dtype
        self.embed = sd["model.embed_tokens.weight"].float()
        self.head = self.embed.to(dtype)
        self.layers = []
        for i in range(cfg.layers):
            p = f"model.layers.{i}."
            g = lambda n: sd[p + n + ".weight"]
            self.layers.append(dict(
                qkv=torch.cat([g("self_attn.q_proj"), g("self_attn.k_proj"), g("self_attn.v_proj")]).to(dtype),
                o=g("self_attn.o_proj").to(dtype),
                gu=torch.cat([g("mlp.gate_proj"), g("mlp.up_proj")]).to(dtype),
                down=g("mlp.down_proj").to(dtype),
                n1=g("input_layernorm").float(), n2=g("post_attention_layernorm").float()))
        self.norm = sd["model.norm.weight"].float()
        self.cos, self.sin = rope_tables(cfg, 2048)

    def _rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.cfg.rms_eps) * w

    def _step(self, ids, pos, cache, keymask):
        """ids (B,T), pos (B,T) -> logits of the last position; appends to cache."""
        c = self.cfg
        B, T = ids.shape
        x = F.embedding(ids, self.embed)
        cos, sin = self.cos[pos].unsqueeze(1), self.sin[pos].unsqueeze(1)
        hd, nh, nk = c.head_dim, c.heads, c.kv_heads
        for li, L in enumerate(self.layers):
            h = self._rms(x, L["n1"]).to(self.dt)
            qkv = F.linear(h, L["qkv"]).float()
            q, k, v = qkv.split([nh * hd, nk * hd, nk * hd], dim=-1)
            q = apply_rope(q.view(B, T, nh, hd).transpose(1, 2), cos, sin)
            k = apply_rope(k.view(B, T, nk, hd).transpose(1, 2), cos, sin)
            v = v.view(B, T, nk, hd).transpose(1, 2)
            if cache[li] is not None:
                k = torch.cat([cache[li][0], k], dim=2)
                v = torch.cat([cache[li][1], v], dim=2)
            cache[li] = (k, v)
            S = k.shape[2]
            rep = nh // nk
            kk = k.repeat_interleave(rep, dim=1).to(self.dt)
            vv = v.repeat_interleave(rep, dim=1).to(self.dt)
            # causal within the new tokens, all cached keys visible, padding keys hidden
            causal = torch.ones(T, S, dtype=torch.bool).tril(S - T)
            mask = causal.unsqueeze(0).unsqueeze(0) & keymask[:, None, None, :S]
            a = F.scaled_dot_product_attention(q.to(self.dt), kk, vv, attn_mask=mask)
            x = x + F.linear(a.transpose(1, 2).reshape(B, T, nh * hd), L["o"]).float()
            h = self._rms(x, L["n2"]).to(self.dt)
            g, u = F.linear(h, L["gu"]).float().chunk(2, dim=-1)
            x = x + F.linear((F.silu(g) * u).to(self.dt), L["down"]).float()
        h = self._rms(x[:, -1], self.norm)
        return F.linear(h.to(self.dt), self.head).float()

    @torch.no_grad()
    def generate(self, prompts: list[list[int]], max_new: int, temperature: float, top_p: float,
                 rep_penalty: float, rng: torch.Generator) -> list[list[int]]:
        B = len(prompts)
        P = max(len(p) for p in prompts)
        ids = torch.zeros(B, P, dtype=torch.long)
        keymask = torch.zeros(B, P + max_new, dtype=torch.bool)
        pos = torch.zeros(B, P, dtype=torch.long)
        for b, p in enumerate(prompts):  # left padding
            ids[b, P - len(p):] = torch.tensor(p)
            keymask[b, P - len(p):] = True
            pos[b, P - len(p):] = torch.arange(len(p))
        cache = [None] * self.cfg.layers
        logits = self._step(ids, pos, cache, keymask)
        nextpos = pos[:, -1] + 1
        out = [[] for _ in range(B)]
        done = torch.zeros(B, dtype=torch.bool)
        seen = torch.zeros(B, logits.shape[-1])
        for t in range(max_new):
            lg = logits.clone()
            lg = torch.where(seen > 0, torch.where(lg > 0, lg / rep_penalty, lg * rep_penalty), lg)
            lg[:, 16] = float("-inf")
            probs = F.softmax(lg / temperature, dim=-1)
            sp, si = probs.sort(dim=-1, descending=True)
            cum = sp.cumsum(-1)
            sp[(cum - sp) > top_p] = 0
            choice = torch.multinomial(sp / sp.sum(-1, keepdim=True), 1, generator=rng)
            tok = si.gather(1, choice).squeeze(1)
            tok = torch.where(done, torch.full_like(tok, EOT), tok)
            for b in range(B):
                if not done[b]:
                    out[b].append(int(tok[b]))
            seen[torch.arange(B), tok] = 1
            done |= (tok == IM_END) | (tok == EOT)
            if bool(done.all()):
                break
            keymask[:, P + t] = True
            logits = self._step(tok.unsqueeze(1), nextpos.unsqueeze(1), cache, keymask)
            nextpos = nextpos + 1
        return out


def degenerate(text: str) -> str | None:
    """Why a distilled document is unusable, or None."""
    words = re.findall(r"[A-Za-z']+", text.lower())
    if len(words) < 40:
        return "short"
    tri = list(zip(words, words[1:], words[2:]))
    if tri and 1 - len(set(tri)) / len(tri) > 0.12:
        return "repetitive"
    if re.search(r"\b(\w+)( \1\b){2,}", text.lower()):
        return "stutter"
    if "<|" in text or "http" in text:
        return "markup"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--max-new", type=int, default=360)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--heldout-every", type=int, default=8, help="every Nth batch is a held-out genre")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    cfg, sd, reader = load_base(DEFAULT_GGUF)
    tok = build_tokenizer(reader)
    dec = ARDecoder(cfg, sd)
    del sd
    state = OUT / "state.json"
    st = json.loads(state.read_text()) if state.exists() else {"batches": 0, "kept": 0, "dropped": {}, "tokens": 0}
    t0 = time.time()
    while time.time() - t0 < a.minutes * 60:
        bi = st["batches"]
        rng = random.Random(a.seed * 1_000_003 + bi)
        pool = HELDOUT_GENRES if bi % a.heldout_every == a.heldout_every - 1 else GENRES
        genres = [rng.choice(sorted(pool)) for _ in range(a.batch)]
        prompts = [make_prompt(g, pool[g], rng) for g in genres]
        ids = [tok.encode(f"<|im_start|>user\n{p}<|im_end|>\n<|im_start|>assistant\n").ids for p in prompts]
        gen = torch.Generator().manual_seed(a.seed * 7919 + bi)
        s0 = time.time()
        outs = dec.generate(ids, a.max_new, temperature=0.7, top_p=0.9, rep_penalty=1.1, rng=gen)
        ntok = sum(len(o) for o in outs)
        for g, p, o in zip(genres, prompts, outs):
            ended = bool(o) and o[-1] in (IM_END, EOT)
            text = tok.decode([t for t in o if t not in (IM_END, EOT)]).strip()
            why = None if ended else "unfinished"
            why = why or degenerate(text)
            if why:
                st["dropped"][why] = st["dropped"].get(why, 0) + 1
                continue
            with open(OUT / f"{g}.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"genre": g, "prompt": p, "text": text, "batch": bi}) + "\n")
            st["kept"] += 1
        st["batches"] = bi + 1
        st["tokens"] += ntok
        state.write_text(json.dumps(st))
        print(f"batch {bi}: {ntok} tokens in {time.time() - s0:.1f}s ({ntok / (time.time() - s0):.0f} tok/s), "
              f"kept {st['kept']}, dropped {st['dropped']}", flush=True)


if __name__ == "__main__":
    main()
