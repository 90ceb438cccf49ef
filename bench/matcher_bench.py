"""Timing of ClaimMatcher.match_many on 10,000 distinct sentences x 500 synthetic claims (not a test).

Run: ``.venv/bin/python bench/matcher_bench.py [SENTENCES]`` from the repository root.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

import yaml

from analysis.claims import Claim, ClaimMatcher, claims_from_yaml_data

DATA = Path(__file__).resolve().parents[1] / "tests" / "analysis" / "claims" / "data"
PLACES = ["Russia", "China", "Qatar", "Kuwait", "Poland", "Mongolia", "Vladivostok", "Dandong", "Laos", "Belarus"]
TAIL = [
    "officials",
    "said",
    "on",
    "Tuesday",
    "according",
    "to",
    "reports",
    "the",
    "ministry",
    "added",
    "local",
    "media",
    "reported",
    "analysts",
    "say",
]


def synthetic_claims(claims: list[Claim], count: int, rng: random.Random) -> list[Claim]:
    """``count`` claims made by varying the known ones: another place, another name for North Korea, a tag."""
    made = []
    for index in range(count):
        text = claims[index % len(claims)].text
        for place in PLACES:
            if place in text:
                text = text.replace(place, rng.choice(PLACES), 1)
                break
        text = text.replace("North Korean", rng.choice(["North Korean", "DPRK", "Pyongyang's"]), 1)
        made.append(Claim(f"S{index:03d}", f"{text} ({rng.choice(['report', 'survey', 'estimate'])} {index})"))
    return made


def main(count: int = 10_000) -> None:
    rng = random.Random(1)
    claims = claims_from_yaml_data(yaml.safe_load((DATA / "known_claims.yaml").read_text(encoding="utf-8")))
    lines = (DATA / "eval_dev.jsonl").read_text(encoding="utf-8").splitlines()
    dev = [json.loads(line)["sentence"] for line in lines if line.strip()]
    # Every sentence distinct (a dev sentence, a random tail, a random number), so no cache helps.
    sentences = [
        f"{rng.choice(dev).rstrip('.')}, {' '.join(rng.sample(TAIL, 4))} ({rng.randint(1, 10**6)})."
        for _ in range(count)
    ]
    start = time.perf_counter()
    matcher = ClaimMatcher(synthetic_claims(claims, 500, rng))
    built = time.perf_counter()
    cpu = time.process_time()
    matches = matcher.match_many(sentences)
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    matched = sum(match.label != "new" for match in matches)
    print(f"{len(set(sentences))} sentences x 500 claims: build {built - start:.2f}s, match_many {done - built:.2f}s")
    print(f"match_many CPU time {cpu:.2f}s (equals wall time on an idle machine: the matcher uses one core)")
    print(f"{matched} matched to a claim")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
