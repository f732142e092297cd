"""The style score: how close an answer is to a persona's voice, by a classifier on
embeddings.

A logistic regression on the answers' embeddings learns the persona's examples (label 1)
against the base model's answers (label 0); an answer's style score is the probability it
gives label 1. Part of both sides is held out to report the classifier's own accuracy, so
a reader can tell a style score worth reading from one that is noise.

The regression is written here (Newton's method, 20 lines) rather than taken from
scikit-learn: that library and SciPy would add some 100 MB to the installer for one fit of
a few hundred 384-dimensional points.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# L2 penalty on the weights (not the bias). Embeddings are unit vectors of a few hundred
# dimensions and the examples few: without it the fit separates the training answers
# perfectly and says 0 or 1 for every new one.
L2 = 1.0
ITERATIONS = 30
HELD_OUT = 0.25  # share of each side kept out of training to measure accuracy
# Share of a run's questions whose answers are scored for style, not trained on.
QUESTIONS_HELD_OUT = 0.5
# Fewer examples than this on a side and no classifier is trained: its accuracy would say
# little.
MIN_EXAMPLES = 6

Embed = Callable[[list[str]], np.ndarray]  # texts -> (n, d) float array


@dataclass(frozen=True)
class StyleClassifier:
    """A fitted logistic regression: ``weights`` shape (d,), ``bias`` a float."""

    weights: np.ndarray
    bias: float

    @classmethod
    def fit(cls, positives: np.ndarray, negatives: np.ndarray) -> StyleClassifier:
        """Fit on ``positives`` (n, d) against ``negatives`` (m, d), each side weighted to
        count the same, by Newton's method on the L2-penalised log loss."""
        x = np.vstack([positives, negatives]).astype(np.float64)
        y = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
        weight = np.where(y == 1, len(y) / (2 * len(positives)), len(y) / (2 * len(negatives)))
        xb = np.hstack([x, np.ones((len(x), 1))])
        penalty = np.full(xb.shape[1], L2)
        penalty[-1] = 0.0  # the bias is not penalised
        theta = np.zeros(xb.shape[1])
        for _ in range(ITERATIONS):
            p = _sigmoid(xb @ theta)
            gradient = xb.T @ (weight * (p - y)) + penalty * theta
            hessian = (xb * (weight * p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            theta -= step
            if float(np.abs(step).max()) < 1e-6:
                break
        return cls(theta[:-1], float(theta[-1]))

    def probability(self, vectors: np.ndarray) -> np.ndarray:
        """P(persona's voice) for each row of ``vectors`` (n, d): shape (n,), 0–1."""
        return _sigmoid(vectors.astype(np.float64) @ self.weights + self.bias)

    def accuracy(self, positives: np.ndarray, negatives: np.ndarray) -> float:
        """The share of both sides put on the right side of 0.5, each side counting half."""
        right_pos = float((self.probability(positives) >= 0.5).mean()) if len(positives) else 1.0
        right_neg = float((self.probability(negatives) < 0.5).mean()) if len(negatives) else 1.0
        return (right_pos + right_neg) / 2


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))))


def held_out(key: str, share: float = HELD_OUT) -> bool:
    """Whether the text or question ``key`` is in the held-out ``share`` (a fixed hash, so
    the same split on every run and every computer)."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return digest[0] < 256 * share


@dataclass(frozen=True)
class StyleModel:
    """A trained classifier, its held-out accuracy (0–1) and how many texts trained it."""

    classifier: StyleClassifier
    accuracy: float
    trained_on: int
    tested_on: int


def train_style(
    persona_texts: Sequence[str], base_texts: Sequence[str], embed: Embed
) -> StyleModel | None:
    """Train on the persona's texts against the base model's, holding out a quarter of
    each (``held_out``) to measure accuracy; None when either side has fewer than
    ``MIN_EXAMPLES`` texts to train on or none to test with."""
    persona = sorted({t for t in persona_texts if t.strip()})
    base = sorted({t for t in base_texts if t.strip()})
    train_p = [t for t in persona if not held_out(t)]
    test_p = [t for t in persona if held_out(t)]
    train_b = [t for t in base if not held_out(t)]
    test_b = [t for t in base if held_out(t)]
    if min(len(train_p), len(train_b)) < MIN_EXAMPLES or not test_p or not test_b:
        return None
    vectors = embed(train_p + test_p + train_b + test_b)
    a, b, c = len(train_p), len(train_p) + len(test_p), len(train_p) + len(test_p) + len(train_b)
    classifier = StyleClassifier.fit(vectors[:a], vectors[b:c])
    accuracy = classifier.accuracy(vectors[a:b], vectors[c:])
    return StyleModel(classifier, accuracy, a + (c - b), (b - a) + (len(vectors) - c))
