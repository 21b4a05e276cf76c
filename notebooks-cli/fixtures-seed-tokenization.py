#!/usr/bin/env python3
"""Regenerates the seed-tokenization fixtures used by TIDataTests: BERT classification features
built the way the seed code builds them (the slow Python BertTokenizer, then the original BERT
`convert_examples_to_features`: `_truncate_seq_pair` pops the last token of the longer segment, of
the second one on a tie), next to the fast tokenizer's `longest_first` features for the same inputs.

Usage: python notebooks-cli/fixtures-seed-tokenization.py [outdir]
Needs: pip install transformers tokenizers  (the slow tokenizer is BertTokenizerLegacy in
transformers 5, BertTokenizer before; no model weights are loaded)
Reads (from outdir, default Tests/TIDataTests/Fixtures/tokenizer/):
  vocab.txt, corpus.json  written by fixtures-tokenizer.py
Writes:
  seeds-vocab.txt       vocab.txt plus a few tokens (final sigma, dotted i) that make the slow
                        tokenizer's lowercasing visible in the ids
  seeds-tokenizer.json  the fast uncased tokenizer on seeds-vocab.txt, as the reference saves it
  seeds-expected.json   "settings": per setting and case, "seeds" (slow tokenizer +
                        _truncate_seq_pair), "fast" (fast tokenizer, longest_first), both as
                        ids, type ids and tokens of the real positions ([PAD] id 0 fills up
                        to max_length, with type 0 and mask 0), and
                        "same_words" (both give the same untruncated ids for every segment);
                        "base_vocab_differences": the corpus.json inputs whose ids differ between
                        the slow and fast tokenizers on vocab.txt (what expected.json cannot
                        agree with); "lowercase": Python str.lower() of tricky strings
"""
import json
import os
import random
import sys

from tokenizers import BertWordPieceTokenizer

try:
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as SlowBertTokenizer
except ImportError:  # transformers < 5: BertTokenizer is the slow one
    from transformers import BertTokenizer as SlowBertTokenizer

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "TIDataTests", "Fixtures", "tokenizer")

with open(os.path.join(out, "vocab.txt"), encoding="utf-8") as fh:
    base_vocab = fh.read().splitlines()
extra_tokens = ["ς", "##ς", "i\u0307", "##\u0307"]
vocab_path = os.path.join(out, "seeds-vocab.txt")
with open(vocab_path, "w", encoding="utf-8") as fh:
    fh.write("\n".join(base_vocab + extra_tokens) + "\n")

with open(os.path.join(out, "corpus.json"), encoding="utf-8") as fh:
    corpus = json.load(fh)

long_a = "the premise of this sentence is rather long because it keeps going and going"
long_b = "a hypothesis that is also quite long but somewhat shorter than the premise"
words = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
seeds_singles = [
    # Greek capital sigma: final (ς) at the end of a word, after case-ignorable marks or before
    # an uncased character; medial (σ) when a cased letter follows, even across "." or "'".
    "ΟΔΟΣ", "Σ", "ΑΣ Σ ΣΑ", "ΣΊΣΥΦΟΣ.", "ΜΑΣ.ΚΑ", "ΑΣ-Β", "ΑΣ1", "Σ'ΑΓΑΠΩ", "ΟΣ'", "ΛΌΓΟΣ,ΚΑΙ",
    "ΟΣ\u0301 x", "AΣ", "ΟΣ\u00ad", "ΟΣ\u200bΑ", "ΌΣΟΣ ΟΣΟΣ", "οδοσ Οδος",
    # Multi-character lowercase and canonical composition (NFC) before lowercasing.
    "İSTANBUL İ", "i\u0307 I\u0307", "e\u0301 é A\u030a Å \u212b",
    "\u0130\u0301", "ǅ ǆ Ǆ ﬁ ẞ",
    # Control characters, whitespace kinds, CJK, never-split special tokens.
    "a\u0000b\u0007c\u200bd\u00ade\ufeffg\u0085h\u000bi\u000cj\u001ck",
    "x\u2028y\u2029z\u3000w\u00a0v",
    "中文字符，测试。漢字 ひらがな 한국어 𠀀𠀁 \uf900\ufa0e",
    "x[MASK]y [MA\u200bSK] [mask] [CLS]abc[SEP]",
    "c" * 100 + " " + "d" * 101,
]
seeds_pairs = [
    (" ".join(words[:6]), " ".join(words[6:12]), 9),    # 6/6 into 6: tie, even removal
    (" ".join(words[:6]), " ".join(words[6:12]), 10),   # 6/6 into 7: tie, odd removal
    (" ".join(words[:7]), " ".join(words[7:14]), 12),
    (" ".join(words[:7]), " ".join(words[7:14]), 13),
    (" ".join(words[:8]), " ".join(words[8:15]), 11),   # 8/7: first longer by one
    (" ".join(words[:7]), " ".join(words[7:15]), 11),   # 7/8: second longer by one
    (" ".join(words[:5]), " ".join(words[5:15]), 9),    # only the longer one is cut
    (long_a, long_a, 17), (long_a, long_a, 18), (long_a, long_b, 21), (long_b, long_a, 21),
    (long_a, long_b, 3), (long_a, long_b, 4), ("ΟΔΟΣ ΚΑΙ ΛΟΓΟΣ", "ΣΊΣΥΦΟΣ ΜΑΣ", 8),
    ("İSTANBUL straße", "Héllo café 中文", 9), ("", long_a, 6), (long_a, "", 6),
]
cases = ([(c["text"], None, c["max_length"]) for c in corpus["singles"]]
         + [(c["a"], c["b"], c["max_length"]) for c in corpus["pairs"] if c["max_length"] >= 3]
         + [(t, None, 48) for t in seeds_singles] + [(t, None, 4) for t in seeds_singles[:3]]
         + seeds_pairs)


def truncate_seq_pair(tokens_a, tokens_b, max_length):
    """The seed code's rule: pop from the longer segment, from the second one on a tie."""
    while len(tokens_a) + len(tokens_b) > max_length:
        if len(tokens_a) > len(tokens_b):
            tokens_a.pop()
        else:
            tokens_b.pop()


def seed_features(tok, a, b, max_length):
    """[CLS] a [SEP] (b [SEP]) as the seed code's convert_examples_to_features builds it."""
    tokens_a = tok.tokenize(a)
    tokens_b = tok.tokenize(b) if b is not None else None
    if tokens_b is not None:
        truncate_seq_pair(tokens_a, tokens_b, max_length - 3)
    else:
        tokens_a = tokens_a[:max_length - 2]
    tokens = ["[CLS]"] + tokens_a + ["[SEP]"]
    types = [0] * len(tokens)
    if tokens_b is not None:
        tokens += tokens_b + ["[SEP]"]
        types += [1] * (len(tokens_b) + 1)
    ids = tok.convert_tokens_to_ids(tokens)
    mask = [1] * len(ids)
    pad = max_length - len(ids)
    ids += [tok.pad_token_id] * pad
    types += [0] * pad
    mask += [0] * pad
    tokens += ["[PAD]"] * pad
    return {"ids": ids, "type_ids": types, "mask": mask, "tokens": tokens}


def slow_library_longest_first(tok, a, b, max_length):
    """The slow tokenizer's own pair truncation, to cross-check the rule above."""
    e = tok(a, b, truncation="longest_first", max_length=max_length, padding="max_length",
            return_token_type_ids=True)
    return e["input_ids"]


def fast_features(tok, a, b, max_length):
    tok.enable_truncation(max_length, strategy="longest_first")
    tok.enable_padding(length=max_length, pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
    e = tok.encode(a, b) if b is not None else tok.encode(a)
    return {"ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask, "tokens": e.tokens}


def unpadded(f):
    """Real positions only (the rest is [PAD], type 0, mask 0 up to max_length)."""
    n = sum(f["mask"])
    assert f["mask"] == [1] * n + [0] * (len(f["mask"]) - n)
    assert all(i == 0 for i in f["ids"][n:]) and all(t == 0 for t in f["type_ids"][n:])
    return {"ids": f["ids"][:n], "type_ids": f["type_ids"][:n], "tokens": f["tokens"][:n]}


def fast_ids(tok, text):
    tok.no_truncation()
    tok.no_padding()
    return tok.encode(text, add_special_tokens=False).ids


settings = [("uncased", True, None), ("cased", False, False), ("lowercase-keep-accents", True, False)]
expected = []
differing = []
for name, lowercase, strip in settings:
    slow = SlowBertTokenizer(vocab_path, do_lower_case=lowercase, strip_accents=strip)
    fast = BertWordPieceTokenizer(vocab_path, lowercase=lowercase, strip_accents=strip)
    results = []
    for a, b, n in cases:
        seeds = seed_features(slow, a, b, n)
        if b is not None:
            assert slow_library_longest_first(slow, a, b, n) == seeds["ids"], (name, a, b, n)
        same = all(slow.convert_tokens_to_ids(slow.tokenize(t)) == fast_ids(fast, t) for t in [a] + ([b] if b is not None else []))
        if not same:
            differing.append((name, a, b))
        results.append({"a": a, "b": b, "max_length": n, "same_words": same,
                        "seeds": unpadded(seeds), "fast": unpadded(fast_features(fast, a, b, n))})
    expected.append({"setting": name, "lowercase": lowercase, "strip_accents": strip, "cases": results})

base_differences = {}
for name, lowercase, strip in settings[:2]:  # the two settings expected.json holds
    slow = SlowBertTokenizer(os.path.join(out, "vocab.txt"), do_lower_case=lowercase, strip_accents=strip)
    fast = BertWordPieceTokenizer(os.path.join(out, "vocab.txt"), lowercase=lowercase, strip_accents=strip)
    texts = [c["text"] for c in corpus["singles"]] + [t for c in corpus["pairs"] for t in (c["a"], c["b"])]
    base_differences[name] = sorted({t for t in texts
                                     if slow.convert_tokens_to_ids(slow.tokenize(t)) != fast_ids(fast, t)})

rng = random.Random(11)
pool = list("ΣσςΑαΟΔΛΚΙ") + list("aZİIiẞß") + ["\u0301", "\u0345", "\u00ad", "\u200b", "'", ".", ":", "-", " ", "1", "ǅ", "ﬁ", "ʰ", "Ω"]
lower_inputs = seeds_singles[:16] + ["Σ", "ΑΣ", "ΑΣ\u0301\u0301", "\u0301Σ", "ʰΣ", "ΑΣʰ", "ΑΣʰΑ", "ΑΣ\u0345", "ǅΣ", "ΣΣΣ", "ΑΣ:Α", "ΑΣ-Α"]
lower_inputs += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(300)]
lower_cases = [{"text": t, "lower": t.lower()} for t in lower_inputs]

saved = BertWordPieceTokenizer(vocab_path, lowercase=True)
saved.save(os.path.join(out, "seeds-tokenizer.json"))
with open(os.path.join(out, "seeds-expected.json"), "w", encoding="utf-8") as fh:
    json.dump({"settings": expected, "base_vocab_differences": base_differences, "lowercase": lower_cases},
              fh, ensure_ascii=False)
ties = sum(1 for s in expected for c in s["cases"] if c["b"] is not None and c["seeds"]["ids"] != c["fast"]["ids"] and c["same_words"])
print(f"{len(cases)} cases x {len(settings)} settings; slow and fast words differ in {len(differing)};"
      f" pair truncation differs (same words) in {ties} -> {os.path.abspath(out)}")
print("on vocab.txt:", {k: len(v) for k, v in base_differences.items()}, "inputs differ")
for d in differing:
    print("  differs:", d[0], repr(d[1])[:70], repr(d[2])[:30] if d[2] is not None else "")
