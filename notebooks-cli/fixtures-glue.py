#!/usr/bin/env python3
"""Writes tiny GLUE-layout TSV fixtures (invented sentences, real column layouts of
glue_data/<Task>/{train,dev}.tsv) for the TIDataTests GLUE readers.

Usage: python notebooks-cli/fixtures-glue.py [outdir]   (default Tests/TIDataTests/Fixtures/glue)
Layouts follow the files produced by the GLUE download script: tab separated, no quoting.
"""
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "TIDataTests", "Fixtures", "glue")


def write(task, name, rows, bom=False):
    d = os.path.join(out, task)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "w", encoding="utf-8", newline="") as fh:
        if bom:
            fh.write("\ufeff")
        for r in rows:
            fh.write("\t".join(r) + "\n")


# CoLA: no header; source, label, original label (or empty), sentence.
write("CoLA", "train.tsv", [
    ["gj04", "1", "", "The cat sat on the mat."],
    ["gj04", "0", "*", "Cat the mat on sat the."],
    ["bc01", "1", "", "She said \"hello\" and left."],
])
write("CoLA", "dev.tsv", [["gj04", "1", "", "Birds fly."], ["gj04", "0", "*", "Fly birds the."]])
# SST-2: header sentence, label.
write("SST-2", "train.tsv", [["sentence", "label"], ["a gripping , funny film ", "1"],
                             ["dull and lifeless ", "0"], ["it 's \"fine\" ", "1"]])
write("SST-2", "dev.tsv", [["sentence", "label"], ["not worth the ticket .", "0"]])
# MRPC: header Quality, #1 ID, #2 ID, #1 String, #2 String (the real file starts with a BOM).
mrpc_header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
write("MRPC", "train.tsv", [mrpc_header,
                            ["1", "101", "102", "The firm reported higher profits.", "Profits at the firm rose."],
                            ["0", "103", "104", "He left on Monday.", "The weather was cold."]], bom=True)
write("MRPC", "dev.tsv", [mrpc_header, ["1", "105", "106", "Shares fell 5 %.", "The stock dropped five percent."]])
# STS-B: index genre filename year old_index source1 source2 sentence1 sentence2 score.
stsb_header = ["index", "genre", "filename", "year", "old_index", "source1", "source2",
               "sentence1", "sentence2", "score"]
write("STS-B", "train.tsv", [stsb_header,
                             ["0", "main-captions", "MSRvid", "2012test", "0001", "none", "none",
                              "A man is playing a flute.", "A man plays the flute.", "3.800"],
                             ["1", "main-news", "headlines", "2013", "0002", "none", "none",
                              "Markets rally.", "A dog runs.", "0.000"]])
write("STS-B", "dev.tsv", [stsb_header, ["0", "main-forums", "answers", "2015", "0003", "none", "none",
                                         "Yes.", "Yes, indeed.", "5.000"]])
# QQP: id qid1 qid2 question1 question2 is_duplicate.
qqp_header = ["id", "qid1", "qid2", "question1", "question2", "is_duplicate"]
write("QQP", "train.tsv", [qqp_header, ["1", "11", "12", "How do I learn Swift?", "What is the best way to learn Swift?", "1"],
                           ["2", "13", "14", "Why is the sky blue?", "How tall is Everest?", "0"]])
write("QQP", "dev.tsv", [qqp_header, ["3", "15", "16", "What is BERT?", "What does BERT mean?", "1"]])
# MNLI: 12 columns in train (label1, gold_label), 16 in dev (label1..label5, gold_label).
mnli_train_header = ["index", "promptID", "pairID", "genre", "sentence1_binary_parse", "sentence2_binary_parse",
                     "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "label1", "gold_label"]
mnli_dev_header = mnli_train_header[:11] + ["label2", "label3", "label4", "label5", "gold_label"]


def mnli_row(i, s1, s2, gold, dev):
    labels = [gold] * 5 if dev else [gold]
    return [str(i), "p%d" % i, "%de" % i, "fiction", "( ( x ) )", "( ( y ) )", "(ROOT x)", "(ROOT y)", s1, s2] + labels + [gold]


write("MNLI", "train.tsv", [mnli_train_header,
                            mnli_row(0, "A man is cooking.", "Someone is making food.", "entailment", False),
                            mnli_row(1, "The shop is closed.", "The shop is open.", "contradiction", False),
                            mnli_row(2, "She went out.", "She went to the cinema.", "neutral", False)])
write("MNLI", "dev_matched.tsv", [mnli_dev_header, mnli_row(3, "It rained.", "The ground is wet.", "entailment", True)])
write("MNLI", "dev_mismatched.tsv", [mnli_dev_header, mnli_row(4, "He is asleep.", "He is running.", "contradiction", True),
                                     mnli_row(5, "Prices rose.", "Inflation exists.", "neutral", True)])
# QNLI: index question sentence label.
write("QNLI", "train.tsv", [["index", "question", "sentence", "label"],
                            ["0", "When was it built?", "The bridge was built in 1890.", "entailment"],
                            ["1", "Who wrote it?", "The river is long.", "not_entailment"]])
write("QNLI", "dev.tsv", [["index", "question", "sentence", "label"], ["0", "Where is it?", "It is in Paris.", "entailment"]])
# RTE / WNLI: index sentence1 sentence2 label.
write("RTE", "train.tsv", [["index", "sentence1", "sentence2", "label"],
                           ["0", "Dana bought a car.", "Dana owns a car.", "entailment"],
                           ["1", "Dana bought a car.", "Dana sold a boat.", "not_entailment"]])
write("RTE", "dev.tsv", [["index", "sentence1", "sentence2", "label"], ["0", "All cats purr.", "Some cats purr.", "entailment"]])
write("WNLI", "train.tsv", [["index", "sentence1", "sentence2", "label"],
                            ["0", "The trophy did not fit in the case because it was too big.", "The trophy was too big.", "1"],
                            ["1", "The trophy did not fit in the case because it was too big.", "The case was too big.", "0"]])
write("WNLI", "dev.tsv", [["index", "sentence1", "sentence2", "label"], ["0", "Sam thanked Kim because he helped.", "Kim helped.", "1"]])
print("wrote", os.path.abspath(out))
