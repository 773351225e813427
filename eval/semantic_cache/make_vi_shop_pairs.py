"""Builds vi_shop_pairs.json from vi_shop_questions.json, and vi_shop_pairs_check.json from vi_shop_questions_check.json
(families written after the normalisation rules the first set led to, as a check of them). Run from this folder:
python3 make_vi_shop_pairs.py.

As a shop's cache meets them: each group's first wording is the question kept (text_a); every other wording of the
group asks it again (label 1). Within a family, groups differ in one detail (a number, a city, a day, a negation, what is
asked), so the kept question of one group against every other wording of another group of its family is a near miss
(label 0). Lookups view: the kept questions are the index and each rewording must find its own group's question, not a
near miss. The output is deterministic.
"""
import itertools
import json

for source, target in [("vi_shop_questions.json", "vi_shop_pairs.json"), ("vi_shop_questions_check.json", "vi_shop_pairs_check.json")]:
    families = json.load(open(source, encoding="utf-8"))
    pairs = []
    for family in families:
        groups = family["groups"]
        for group in groups:
            kept, *again = group["questions"]
            pairs += [(kept, other, 1) for other in again]
        for g1, g2 in itertools.permutations(groups, 2):
            pairs += [(g1["questions"][0], other, 0) for other in g2["questions"][1:]]

    with open(target, "w", encoding="utf-8") as out:
        out.write("[\n")
        out.write(",\n".join(json.dumps({"text_a": a, "text_b": b, "label": label}, ensure_ascii=False) for a, b, label in pairs))
        out.write("\n]\n")
    print(f"{target}: {len(pairs)} pairs, {sum(p[2] for p in pairs)} labelled the same")
