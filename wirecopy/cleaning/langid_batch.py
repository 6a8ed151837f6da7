"""py3langid's classification of many texts at once, with the same answer as `py3langid.classify` for each.

py3langid walks a byte automaton (DFA) over each text in a Python loop, one step per byte: ≈ 0.5 ms for the
1,000-character sample of one English article, about half of all the cleaning time of a batch. The walk is
sequential within a text but independent across texts, so here one step advances every text of the batch at
once (NumPy over the batch's texts, longest first, the finished ones dropped). The features each text visits
are then counted in the order py3langid's `Counter` holds them and scored with its own arrays, so the answer is
the one py3langid gives (tests/test_cleaning_language.py compares both on texts in many languages).

Uses the model py3langid loads (`py3langid.langid._get_identifier`) and its attributes; pinned to py3langid 0.4.
"""

from __future__ import annotations

import numpy as np

RAW_FLOOR = float(np.finfo(np.float32).min)  # py3langid's score of a text without any feature


_ARRAYS: dict[int, tuple[np.ndarray, ...]] = {}


def _model():
    """py3langid's identifier and its automaton as NumPy arrays (next state, row offsets, feature of a state)."""
    from py3langid import langid

    identifier = langid._get_identifier()
    arrays = _ARRAYS.get(id(identifier))
    if arrays is None:
        nextmove = identifier.tk_nextmove
        arrays = _ARRAYS[id(identifier)] = (
            np.frombuffer(nextmove, dtype=np.dtype(f"u{nextmove.itemsize}")),  # a view of its 39 MB, not a copy
            np.asarray(identifier._rowbase, dtype=np.int64),
            np.asarray(identifier.tk_output, dtype=np.int64),
        )
    return identifier, arrays


WALK_CELLS = 1_000_000
"""Texts walked together hold at most this many (text, byte) cells: ≈ 9 MB of scratch whatever the batch, a
long text walking with few others."""


def classify_batch(texts: list[str]) -> list[str]:
    """py3langid's language code for each text (`py3langid.classify(text)[0]`)."""
    identifier, (nextmove, rowbase, output) = _model()
    encoded = [identifier._encode(text) for text in texts]
    lengths = np.array([len(data) for data in encoded], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable").tolist()  # longest first: the texts still walking are a prefix
    answers: list[str] = [""] * len(texts)
    start = 0
    while start < len(order):
        size = max(1, WALK_CELLS // max(1, int(lengths[order[start]])))
        group = order[start : start + size]
        walked = _walk([encoded[i] for i in group], nextmove, rowbase, output)
        scores = _Scores.of(identifier, walked)
        for index, features in zip(group, walked, strict=True):
            answers[index] = _decide(identifier, features, scores)
        start += size
    return answers


CAST_ROWS = 30_000
"""Feature rows cast at once for a group of texts at most: ≈ 17 MB (a group of news texts visits 2,000–10,000)."""


class _Scores:
    """py3langid's feature scores (float16) of the features a group of texts visited, cast to float32 once: the
    rows `_decide` multiplies, the same values as casting each text's rows, without casting a row per text."""

    def __init__(self, features: np.ndarray, rows: np.ndarray, n_features: int) -> None:
        self.rows = rows
        self.row_of = np.zeros(n_features, dtype=np.intp)  # feature → its row: an index, not a binary search
        self.row_of[features] = np.arange(len(features))

    @classmethod
    def of(cls, identifier, walked: list[np.ndarray]) -> _Scores | None:
        """None when the group visited more than `CAST_ROWS` features (each text's rows are cast then)."""
        n_features = len(identifier.nb_ptc)
        visits = np.bincount(np.concatenate(walked), minlength=n_features) if walked else np.zeros(n_features)
        features = np.flatnonzero(visits)  # sorted, each once
        if len(features) > CAST_ROWS:
            return None
        return cls(features, identifier.nb_ptc[features].astype(np.float32), n_features)

    def take(self, features: np.ndarray) -> np.ndarray:
        return self.rows[self.row_of[features]]


def _walk(encoded: list[bytes], nextmove, rowbase, output) -> list[np.ndarray]:
    """The features the automaton reaches in each text (longest first), in the order it reaches them."""
    lengths = np.array([len(data) for data in encoded], dtype=np.int64)
    width = int(lengths[0])
    steps = np.zeros((width, len(encoded)), dtype=np.uint8)  # row s: byte s of every text (one read per step)
    for row, data in enumerate(encoded):
        steps[: len(data), row] = np.frombuffer(data, dtype=np.uint8)
    walking = len(encoded) - np.searchsorted(lengths[::-1], np.arange(width), side="right")  # texts longer than step
    states = np.zeros(len(encoded), dtype=np.int64)
    visited = np.full((width, len(encoded)), -1, dtype=np.int32)  # the feature each step reached, -1: none
    for step in range(width):
        count = int(walking[step])
        states[:count] = nextmove[rowbase[states[:count]] + steps[step, :count]]
        visited[step, :count] = output[states[:count]]
    per_text = np.ascontiguousarray(visited.T)
    return [features[features >= 0] for features in (per_text[row, :n] for row, n in enumerate(lengths.tolist()))]


def _decide(identifier, visited: np.ndarray, scores: _Scores | None = None) -> str:
    """py3langid's `classify` (without probability normalisation) given the features one text visited; `scores`:
    its feature rows already cast (`_Scores`)."""
    classes = identifier.nb_classes
    if len(visited):
        in_order = dict.fromkeys(visited.tolist())  # a Counter keeps the order in which keys first came
        idx = np.fromiter(in_order, dtype=np.intp, count=len(in_order))
        counts = np.bincount(visited, minlength=len(identifier.nb_ptc))[idx].astype(np.float32)
        # the cast py3langid's matmul makes of its float16 rows
        rows = scores.take(idx) if scores is not None else identifier.nb_ptc[idx].astype(np.float32)
        scores = np.log1p(counts) @ rows + identifier.nb_pc
    else:
        scores = np.full(len(classes), RAW_FLOOR, dtype=np.float32)
    for i, j in identifier._alias_pairs:  # a label listed twice: the first column keeps the better score
        scores[i] = max(scores[i], scores[j])
        scores[j] = RAW_FLOOR
    return classes[int(scores.argmax())]
