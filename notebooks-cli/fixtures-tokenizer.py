#!/usr/bin/env python3
"""Regenerates the WordPiece tokenizer fixtures used by TIDataTests with the reference
HuggingFace `tokenizers` library (BertWordPieceTokenizer = BertNormalizer + BertPreTokenizer +
WordPiece + BertProcessing, the fast tokenizer transformers uses for BERT).

Usage: python notebooks-cli/fixtures-tokenizer.py [outdir]
Needs: pip install tokenizers
Outputs (default Tests/TIDataTests/Fixtures/tokenizer/):
  corpus.json     the tricky inputs (single texts and pairs with max lengths)
  vocab.txt       a small vocab trained on the corpus, with a few entries removed to force [UNK]
  tokenizer.json  the same uncased tokenizer serialized by the reference
  expected.json   reference ids / type ids / masks / tokens for uncased and cased settings
"""
import json
import os
import random
import sys

from tokenizers import BertWordPieceTokenizer

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "TIDataTests", "Fixtures", "tokenizer")
os.makedirs(out, exist_ok=True)

long_a = "the premise of this sentence is rather long because it keeps going and going"
long_b = "a hypothesis that is also quite long but somewhat shorter than the premise"
singles = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Héllo Wörld — naïve café résumé Ångström",
    "ÀÉÎÕÜ àéîõü ç Ç ñ Ñ",
    "İstanbul ΣΊΣΥΦΟΣ straße",
    "中文字符测试，日本語のテキスト。한국어 텍스트",
    "mixed中文and English",
    "don't stop-believing... (really?) [yes] {no} <maybe> @user #tag $100 50% a+b=c ^_^ `code` | ~tilde",
    "“Smart quotes” and ‘single’ – dashes — ellipsis…",
    "",
    "   ",
    "\t tabs\tand\nnewlines\r\n",
    "control\u0000chars\u0007here\ufffdand\u200bzero-width\u00adsoft",
    "nbsp\u00a0space\u2028line\u3000ideographic\u000bvt\u0085nel",
    "a" * 101,
    "b" * 100,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "unbelievable unhappiness rethinking",
    "numbers 3.14159 1,000,000 2nd 42",
    "emoji 😀 👍🏽 and symbols ♥ © ™ € £",
    "combining e\u0301 vs é",
    "Ⅷ ﬁ ligature ＦＵＬＬＷＩＤＴＨ",
    "[MASK] token and [SEP] inside text",
    "ǅ titlecase Ǆ",
    "zzzqqq xylophone",
]
pairs = [
    (long_a, long_b, 16), (long_b, long_a, 16), (long_a, long_a, 17), (long_a, long_a, 18),
    ("short one", long_a, 12), (long_a, "short one", 12), ("How are you?", "I am fine.", 32),
    ("premise only", "", 16), ("", "", 8), ("Héllo café", "中文字符", 9), (long_a, long_b, 5),
    ("one two three four five", "six seven", 9), ("one two", "three four five six seven", 9),
]
# Random strings from a pool of assigned code points of every kind the normalizer treats
# specially (seeded, so the fixture is reproducible).
pool = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 4
        + list(" " * 30) + list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
        + list("àáâãäåçèéêëìíîïñòóôõöùúûüýÿÀÉÎÕÜßøæœ") + ["\u0301", "\u0308", "\u0327", "\u20dd"]
        + list("中文字符测试語日本") + list("のテキスト") + list("한국어") + list("αβγΣΩπ") + list("абвЖЯ")
        + ["\t", "\n", "\r", "\u00a0", "\u2028", "\u3000", "\u200b", "\u00ad", "\u0000", "\u0007", "\ufffd", "\ufeff"]
        + list("“”‘’–—…«»¿¡§¶•°±×÷€£¥©®™♥😀👍🏽") + ["##", "[MASK]", "[UNK]", "un", "##able"])
rng = random.Random(7)
randoms = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(300)]
corpus = {
    "singles": [{"text": t, "max_length": 64} for t in singles]
    + [{"text": t, "max_length": 48} for t in randoms]
    + [{"text": long_a, "max_length": 10}, {"text": long_a, "max_length": 3}],
    "pairs": [{"a": a, "b": b, "max_length": n} for a, b, n in pairs],
}

# Train a small vocab on the corpus plus some plain English so subwords appear.
extra = [
    "the a an of to and in is it that for on with as was be by this are or from at not have",
    "believe believing belief unbelievable happiness happy unhappy think thinking rethink",
    "sentence sentences premise hypothesis long longer shortest quite rather going keeps",
    "question answer entailment contradiction neutral paraphrase duplicate grammatical",
]
trainer_texts = singles + [long_a, long_b] + extra * 3
bwp = BertWordPieceTokenizer(lowercase=True)
bwp.train_from_iterator(trainer_texts, vocab_size=700, min_frequency=1, limit_alphabet=1000,
                        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
vocab = bwp.get_vocab()
tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
# Force [UNK] paths: a CJK char, an emoji and a subword continuation.
for drop in ["字", "😀", "##z"]:
    if drop in tokens:
        tokens.remove(drop)
# Cased-only entries and accented tokens that only survive without accent stripping.
tokens += ["Hello", "The", "English", "café", "é", "Ω", "##é"]
vocab_path = os.path.join(out, "vocab.txt")
with open(vocab_path, "w", encoding="utf-8") as fh:
    fh.write("\n".join(tokens) + "\n")


def run(tok, lowercase):
    results = []
    for case in corpus["singles"]:
        tok.enable_truncation(case["max_length"])
        tok.enable_padding(length=case["max_length"], pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
        e = tok.encode(case["text"])
        results.append({"a": case["text"], "b": None, "max_length": case["max_length"],
                        "ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask, "tokens": e.tokens})
    for case in corpus["pairs"]:
        tok.enable_truncation(case["max_length"])
        tok.enable_padding(length=case["max_length"], pad_id=tok.token_to_id("[PAD]"), pad_token="[PAD]")
        e = tok.encode(case["a"], case["b"])
        results.append({"a": case["a"], "b": case["b"], "max_length": case["max_length"],
                        "ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask, "tokens": e.tokens})
    return {"lowercase": lowercase, "cases": results}


uncased = BertWordPieceTokenizer(vocab_path, lowercase=True)
cased = BertWordPieceTokenizer(vocab_path, lowercase=False, strip_accents=False)
expected = [run(uncased, True), run(cased, False)]
uncased.no_truncation()
uncased.no_padding()
uncased.save(os.path.join(out, "tokenizer.json"))
with open(os.path.join(out, "corpus.json"), "w", encoding="utf-8") as fh:
    json.dump(corpus, fh, ensure_ascii=False, indent=1)
with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as fh:
    json.dump(expected, fh, ensure_ascii=False)
print("vocab size", len(tokens), "->", os.path.abspath(out))
