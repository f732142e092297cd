"""Does a persona move the embedded model's voice more with example exchanges than with its
prompt alone, and what does each cost in prompt tokens?

The data is real: ``moodswapper``'s persona files (prompt/response pairs answered in a mood),
whose persona prompt is the package's own instruction ("Answer in a drunk way, but still
give me the actual answer."). Per mood, the questions are split three ways, fixed by the
seed: the pool the example exchanges are drawn from (the shortest answers to questions, as
a person would pick them), classifier questions, and held-out test questions.

The style classifier is Folio's own (``desktop.core.evaluate.style.StyleClassifier`` on the
embedded all-MiniLM-L6-v2): the persona's answers to the classifier questions against the
base model's answers to them with no prompt; its accuracy on a held-out third is reported.
The test questions are answered greedily (``--max-tokens``) by the embedded SmolLM2-135M
with the messages Folio sends (``desktop.core.chat.prompts.build_messages``, retrieval
off), for each variant: no persona; the prompt alone; the prompt with 1, 2 and 4 example
exchanges; and the two examples written into the system prompt instead of as turns. Each
answer's style score is the classifier's probability that it is the persona's.

    .venv/bin/python bench/persona_examples.py [--moods drunk,nostalgic] [--test 20] [--json]
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path
from typing import Any

import benchlib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from style_proof import PERSONA, mood_pairs  # noqa: E402

from desktop.core.chat.prompts import DEFAULT_SYSTEM_PROMPT, build_messages  # noqa: E402
from desktop.core.evaluate.style import StyleClassifier  # noqa: E402
from desktop.core.models.embeddings import local_embedding  # noqa: E402
from desktop.core.models.local import LocalLlama  # noqa: E402
from desktop.core.models.local_files import embedded_llm_path  # noqa: E402

POOL = 200  # questions whose answers may be examples; the rest classify and test


def variants(prompt: str, examples: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """Each variant's system prompt and example exchanges."""
    in_system = "\n\n".join(f"Question: {q}\nAnswer: {a}" for q, a in examples[:2])
    return {
        "no persona": {"system": None, "examples": []},
        "prompt": {"system": prompt, "examples": []},
        "prompt + 1 example": {"system": prompt, "examples": examples[:1]},
        "prompt + 2 examples": {"system": prompt, "examples": examples[:2]},
        "prompt + 4 examples": {"system": prompt, "examples": examples[:4]},
        "prompt + 2 examples in the prompt": {
            "system": f"{prompt}\n\nExamples of your answers:\n\n{in_system}",
            "examples": [],
        },
    }


def one_mood(mood: str, llm: LocalLlama, embed: Any, args: Any) -> dict[str, Any]:
    """Style scores and prompt tokens of every variant for one mood."""
    pairs = mood_pairs(mood)
    random.Random(args.seed).shuffle(pairs)
    pool, rest = pairs[:POOL], pairs[POOL:]
    classify, test = rest[: args.classifier], rest[args.classifier :][: args.test]
    # As a person would pick them: short answers to questions.
    asked = [pair for pair in pool if pair[0].rstrip().endswith("?")]
    examples = sorted(asked, key=lambda pair: len(pair[1]))[:4]
    prompt = PERSONA.format(a="an" if mood[0] in "aeiou" else "a", word=mood)

    def answer(question: str, setting: dict[str, Any]) -> str:
        messages = build_messages(question, setting["system"], None, (), None, setting["examples"])
        reply = llm.chat(messages, temperature=0.0, max_tokens=args.max_tokens)
        return reply.message.content or ""

    def tokens(setting: dict[str, Any]) -> int:
        messages = build_messages("", setting["system"], None, (), None, setting["examples"])
        return sum(llm.count_tokens(m.content or "") + 4 for m in messages)

    def vectors(texts: list[str]) -> np.ndarray:
        return np.array(embed.get_text_embedding_batch(texts))

    none = {"system": None, "examples": []}
    base_answers = vectors([answer(q, none) for q, _ in classify])
    persona_answers = vectors([a for _, a in classify])
    fit = len(classify) * 2 // 3
    classifier = StyleClassifier.fit(persona_answers[:fit], base_answers[:fit])
    accuracy = classifier.accuracy(persona_answers[fit:], base_answers[fit:])
    settings = variants(prompt, examples)
    baseline = tokens(settings["no persona"])
    rows = {}
    for name, setting in settings.items():
        texts = [answer(q, setting) for q, _ in test]
        p = classifier.probability(vectors(texts))
        rows[name] = {
            "style": round(float(p.mean()), 3),
            "in_voice": round(float((p >= 0.5).mean()), 3),
            "prompt_tokens_added": tokens(setting) - baseline,
            "example_answer": texts[0],
        }
    return {"mood": mood, "prompt": prompt, "classifier_accuracy": accuracy, "variants": rows}


def main() -> None:
    """Run every mood and print the table (or one JSON document with ``--json``)."""
    p = benchlib.parser(__doc__)
    p.add_argument("--moods", default="drunk,nostalgic")
    p.add_argument("--classifier", type=int, default=60, help="classifier questions")
    p.add_argument("--test", type=int, default=20, help="held-out test questions")
    p.add_argument("--max-tokens", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    path = embedded_llm_path()
    assert path is not None, "the embedded model is not installed"
    llm = LocalLlama(model_path=str(path), threads=2, max_tokens=args.max_tokens)
    with tempfile.TemporaryDirectory() as tmp:
        embed = local_embedding(Path(tmp) / "models", threads=2)
        moods = [one_mood(m.strip(), llm, embed, args) for m in args.moods.split(",") if m]
    result = {"default_system_prompt": DEFAULT_SYSTEM_PROMPT, "moods": moods}

    def human(r: dict[str, Any]) -> None:
        for mood in r["moods"]:
            print(f"\n{mood['mood']}: classifier right on {mood['classifier_accuracy']:.0%}")
            print("| variant | style | in the voice | prompt tokens added |")
            print("| --- | --- | --- | --- |")
            for name, row in mood["variants"].items():
                print(
                    f"| {name} | {row['style']:.2f} | {row['in_voice']:.0%} "
                    f"| {row['prompt_tokens_added']} |"
                )

    benchlib.emit(result, args.json, human)


if __name__ == "__main__":
    main()
