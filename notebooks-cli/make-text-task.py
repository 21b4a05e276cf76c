#!/usr/bin/env python3
"""A small English sentiment task in GLUE's SST-2 layout, generated from a seed (no download):

    python3 notebooks-cli/make-text-task.py OUT_DIR [--train 1600] [--dev 200] [--seed 1]

writes OUT_DIR/SST-2/train.tsv and dev.tsv ("sentence<TAB>label", label 1 = positive). Each
sentence is a review clause built from common English words (all in BERT's uncased WordPiece
vocabulary): a subject, a verb, an optional intensifier, an adjective of known polarity, and an
optional negation ("was not", "never felt") that flips the label; one sentence in eight joins two
clauses with "but", and the clause after "but" decides. So the label is not a bag-of-words
function: word order and negation scope matter, as in SST-2.
"""
import argparse
import os
import random

SUBJECTS = ["the movie", "the film", "this story", "the acting", "the plot", "the music", "the ending",
            "the cast", "the script", "the director's work", "the whole show", "the second half"]
POSITIVE = ["good", "great", "wonderful", "funny", "moving", "brilliant", "charming", "beautiful",
            "clever", "enjoyable", "fresh", "powerful", "delightful", "smart", "warm"]
NEGATIVE = ["bad", "boring", "dull", "awful", "weak", "silly", "painful", "terrible", "flat",
            "tedious", "messy", "predictable", "cold", "clumsy", "empty"]
INTENSIFIERS = ["", "", "really", "very", "quite", "truly", "rather", "surprisingly"]
VERBS = [("was", "was not"), ("is", "is not"), ("felt", "never felt"), ("seemed", "never seemed"),
         ("looked", "did not look")]


def clause(rng):
    """One clause and its polarity (1 positive, 0 negative)."""
    positive = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if positive else NEGATIVE)
    verb, negated_verb = rng.choice(VERBS)
    negated = rng.random() < 0.3
    words = [rng.choice(SUBJECTS), negated_verb if negated else verb, rng.choice(INTENSIFIERS), adjective]
    return " ".join(w for w in words if w), int(positive != negated)


def sentence(rng):
    first, label = clause(rng)
    if rng.random() < 0.125:
        second, label = clause(rng)
        return f"{first} , but {second} .", label
    return first + " .", label


def write(path, rows):
    with open(path, "w") as f:
        f.write("sentence\tlabel\n")
        for s, y in rows:
            f.write(f"{s}\t{y}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--train", type=int, default=1600)
    ap.add_argument("--dev", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rows = [sentence(rng) for _ in range(a.train + a.dev)]
    task = os.path.join(a.out, "SST-2")
    os.makedirs(task, exist_ok=True)
    write(os.path.join(task, "train.tsv"), rows[:a.train])
    write(os.path.join(task, "dev.tsv"), rows[a.train:])
    print(task)


if __name__ == "__main__":
    main()
