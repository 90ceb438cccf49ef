"""How the fixture web moves from one state to the next: new articles and exactly three kinds of edit."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from labourwatch.fixtureweb.content import Article
from labourwatch.fixtureweb.sites import SiteModel, clock

EDITS_PER_STATE = 3  # one figure edit, one correction, one headline change


@dataclass
class Step:
    """What one step did, as article objects (the fixture web turns them into URLs)."""

    state: int
    cursor: int
    new: list[Article] = field(default_factory=list)
    figure_edits: list[tuple[Article, str, str]] = field(default_factory=list)
    corrections: list[Article] = field(default_factory=list)
    headline_changes: list[tuple[Article, str, str]] = field(default_factory=list)

    def edited(self) -> list[Article]:
        """Articles whose main text or headline changed."""
        return ([a for a, _, _ in self.figure_edits] + self.corrections
                + [a for a, _, _ in self.headline_changes])


def interleaved_on_topic(models: list[SiteModel]) -> list[Article]:
    """On-topic articles taken one per site in turn (oldest first), so consecutive picks hit different sites."""
    per_site = [[a for a in m.articles if a.on_topic and a.figure_key()] for m in models]
    longest = max((len(p) for p in per_site), default=0)
    return [p[i] for i in range(longest) for p in per_site if i < len(p)]


def apply_step(models: list[SiteModel], state: int, cursor: int) -> Step:
    """Edit three existing on-topic articles, then publish new ones, all as of ``clock(state)``."""
    step = Step(state=state, cursor=cursor)
    at = clock(state)
    candidates = interleaved_on_topic(models)
    if len(candidates) >= EDITS_PER_STATE:
        # A cursor walking the interleaved list cycles edits through every article and spreads them over sites.
        picks = [candidates[(cursor + k) % len(candidates)] for k in range(EDITS_PER_STATE)]
        step.cursor = (cursor + EDITS_PER_STATE) % len(candidates)
        old, new = picks[0].edit_figure(at)
        step.figure_edits.append((picks[0], old, new))
        picks[1].add_correction(at)
        step.corrections.append(picks[1])
        old_title, new_title = picks[2].change_headline(at)
        step.headline_changes.append((picks[2], old_title, new_title))
    step.new = _publish(models, state)
    return step


def _publish(models: list[SiteModel], state: int) -> list[Article]:
    # Seeded by the state and the site list only, so every run of the same spec publishes the same articles.
    rng = random.Random(f"advance:{state}:" + "|".join(m.spec.id for m in models))
    if not models:
        return []
    count = min(len(models), max(1, len(models) // 8) + (rng.random() < 0.5))
    if len(models) > 1:
        count = min(count, len(models) - 1)  # keep at least one site quiet in every state
    new = []
    for model in sorted(rng.sample(models, count), key=models.index):
        n = rng.randint(1, 2)
        for k in range(n):
            new.append(model.publish(clock(state) - timedelta(minutes=10 * (n - k))))
    return new
