"""Does local fine-tuning teach a style, so the model no longer needs the persona's prompt?

The data is real: one of the ``moodswapper`` package's persona files (prompt/response pairs
answered in a mood, e.g. ``drunk``), whose persona prompt is the package's own instruction
("Answer in a drunk way, but still give me the actual answer."). The questions are split
three ways, fixed by the seed: training pairs for the adapter, classifier questions, and
held-out test questions that neither saw.

1. A LoRA adapter is trained here on the training pairs with Folio's trainer
   (``LocalTraining``, the defaults but for ``--epochs``).
2. A style classifier: logistic regression on embeddings (the embedded all-MiniLM-L6-v2) of
   the persona's own answers to the classifier questions against the base model's answers
   to the same questions, with no prompt. Its accuracy on a held-out part of those
   questions is reported, so a score can be trusted only as far as the classifier.
3. The held-out test questions are answered (greedy, ``--max-tokens``) by the base model,
   the base model with the persona prompt, and the fine-tuned model with no prompt. Each
   answer's style score is the classifier's probability that it is the persona's.

Also reported: the prompt tokens the fine-tuned model saves on every question (the persona
prompt as the chat template renders it). The logistic regression is ten lines of numpy:
scikit-learn is not among Folio's dependencies, and nothing else here needs it.

    .venv/bin/python bench/style_proof.py [--mood drunk] [--train 200] [--epochs 2] [--json OUT]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.finetune.datasets import DatasetStore  # noqa: E402
from desktop.core.finetune.examples import Example  # noqa: E402
from desktop.core.finetune.local.config import TrainConfig  # noqa: E402
from desktop.core.finetune.local.runs import LocalTraining  # noqa: E402
from desktop.core.finetune.records import JobStore  # noqa: E402
from desktop.core.models.embeddings import local_embedding  # noqa: E402
from desktop.core.models.local import LocalLlama  # noqa: E402
from desktop.core.models.local_files import embedded_llm_path  # noqa: E402
from desktop.core.settings import Settings  # noqa: E402

# moodswapper's own persona instruction (moodswapper/moods.py, SUFFIX).
PERSONA = "Answer in {a} {word} way, but still give me the actual answer."


def mood_pairs(mood: str) -> list[tuple[str, str]]:
    """(prompt, response) pairs of a moodswapper mood, found without importing the package
    (its code needs PyTorch at import)."""
    spec = importlib.util.find_spec("moodswapper")
    assert spec is not None and spec.submodule_search_locations, "moodswapper is not installed"
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{mood}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [(r["prompt"], r["response"]) for r in rows if r.get("prompt") and r.get("response")]


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 2000, lr: float = 0.5) -> np.ndarray:
    """Weights (bias last) of an L2-regularised logistic regression, by gradient descent."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ w))
        w -= lr * (xb.T @ (p - y) / len(y) + 1e-3 * w)
    return w


def predict(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(persona) for each row of ``x``."""
    return 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ w)))


def answer(llm: LocalLlama, question: str, system: str | None, max_tokens: int) -> str:
    """One greedy answer, with the model's chat template."""
    from llama_index.core.base.llms.types import ChatMessage

    messages = [ChatMessage(role="system", content=system)] if system else []
    messages.append(ChatMessage(role="user", content=question))
    reply = llm.chat(messages, temperature=0.0, max_tokens=max_tokens)
    return reply.message.content or ""


def train(home: Path, pairs: list[tuple[str, str]], epochs: int) -> tuple[str, dict[str, Any]]:
    """Train the adapter with Folio's trainer; (adapter GGUF path, the job's last numbers)."""
    datasets = DatasetStore(home / "finetune" / "datasets")
    examples = [
        Example([{"role": "user", "content": q}, {"role": "assistant", "content": a}], i + 1)
        for i, (q, a) in enumerate(pairs)
    ]
    datasets.create("persona", examples, source="import")
    training = LocalTraining(home, JobStore(home / "finetune.db"), datasets, Settings())
    job = training.start("persona", config=TrainConfig(epochs=epochs))
    started = time.monotonic()
    while not (job := training.refresh(job.id)).finished:
        progress = training.progress(job.id) or {}
        print(f"  training: {job.status} step {progress.get('step')}", file=sys.stderr)
        time.sleep(30)
    if job.status != "succeeded":
        raise SystemExit(f"training {job.status}: {job.error}")
    progress = dict(training.progress(job.id) or {})
    progress["wall_s"] = time.monotonic() - started
    return str(training.files(job.id).adapter_gguf), progress


def main() -> None:
    """Run the proof and print its scores (and write them as JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mood", default="drunk")
    parser.add_argument("--train", type=int, default=200, help="training pairs")
    parser.add_argument("--classifier", type=int, default=60, help="classifier questions")
    parser.add_argument("--test", type=int, default=20, help="held-out test questions")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    pairs = mood_pairs(args.mood)
    random.Random(args.seed).shuffle(pairs)
    train_pairs = pairs[: args.train]
    clf_pairs = pairs[args.train : args.train + args.classifier]
    test_pairs = pairs[args.train + args.classifier :][: args.test]
    word = args.mood
    persona = PERSONA.format(a="an" if word[0] in "aeiou" else "a", word=word)
    base_path = embedded_llm_path()
    assert base_path is not None

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        print(f"Training on {len(train_pairs)} {word} pairs…", file=sys.stderr)
        adapter, trained = train(home, train_pairs, args.epochs)
        base = LocalLlama(model_path=str(base_path), threads=2, max_tokens=args.max_tokens)
        tuned = LocalLlama(
            model_path=str(base_path), lora_path=adapter, threads=2, max_tokens=args.max_tokens
        )
        print("Answering…", file=sys.stderr)
        clf_base = [answer(base, q, None, args.max_tokens) for q, _ in clf_pairs]
        answers = {
            "base": [answer(base, q, None, args.max_tokens) for q, _ in test_pairs],
            "base + persona prompt": [
                answer(base, q, persona, args.max_tokens) for q, _ in test_pairs
            ],
            "fine-tuned, no prompt": [
                answer(tuned, q, None, args.max_tokens) for q, _ in test_pairs
            ],
        }
        with_prompt = base.count_tokens(f"<|im_start|>system\n{persona}<|im_end|>\n")

        embed = local_embedding(Path(tmp) / "models", threads=2)

        def vectors(texts: list[str]) -> np.ndarray:
            return np.array(embed.get_text_embedding_batch(texts))

        half = len(clf_pairs) // 3 * 2  # two thirds fit the classifier, a third tests it
        persona_x, base_x = vectors([a for _, a in clf_pairs]), vectors(clf_base)
        x = np.vstack([persona_x[:half], base_x[:half]])
        y = np.array([1] * half + [0] * half)
        w = fit_logistic(x, y)
        held_x = np.vstack([persona_x[half:], base_x[half:]])
        held_y = np.array([1] * (len(persona_x) - half) + [0] * (len(base_x) - half))
        accuracy = float(((predict(w, held_x) > 0.5) == held_y).mean())

        scores = {}
        for name, texts in answers.items():
            p = predict(w, vectors(texts))
            scores[name] = {"style": float(p.mean()), "share_persona": float((p > 0.5).mean())}

    result = {
        "mood": word,
        "persona_prompt": persona,
        "train_pairs": len(train_pairs),
        "test_questions": len(test_pairs),
        "training": trained,
        "classifier_heldout_accuracy": accuracy,
        "scores": scores,
        "prompt_tokens_saved_per_question": with_prompt,
        "examples": {name: texts[:2] for name, texts in answers.items()},
    }
    print(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"\nclassifier accuracy on held-out answers: {accuracy:.2f}")
    print("| model | style score | answers judged in the persona's style |")
    print("| --- | --- | --- |")
    for name, score in scores.items():
        print(f"| {name} | {score['style']:.2f} | {score['share_persona']:.0%} |")
    print(f"prompt tokens saved per question: {with_prompt}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
