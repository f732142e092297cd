"""OpenAI's fine-tuning prices and limits, kept in one place with the date they were read.

Used for the cost estimate shown before a job starts; the estimate says it is one.
"""

from __future__ import annotations

from dataclasses import dataclass

# Training prices: the "Fine-tuning" table of OpenAI's pricing page (training, per 1M tokens);
# per-example limits: the token limits in OpenAI's fine-tuning guide. Both as published in
# June 2025; check the pricing page before trusting an estimate for a large job.
PRICES_AS_OF = "2025-06-01"


@dataclass(frozen=True)
class BaseModel:
    """A model OpenAI can fine-tune: training price and the longest example it takes."""

    name: str  # the snapshot name the API takes, e.g. "gpt-4o-mini-2024-07-18"
    usd_per_million_training_tokens: float
    max_tokens_per_example: int
    encoding: str  # tiktoken encoding that counts its tokens
    alias: str = ""  # the undated name that points at this snapshot, e.g. "gpt-4o-mini"


# Fine-tunable base models, the usual choice first.
BASE_MODELS: tuple[BaseModel, ...] = (
    BaseModel("gpt-4o-mini-2024-07-18", 3.00, 65_536, "o200k_base", "gpt-4o-mini"),
    BaseModel("gpt-4.1-mini-2025-04-14", 5.00, 65_536, "o200k_base", "gpt-4.1-mini"),
    BaseModel("gpt-4.1-nano-2025-04-14", 1.50, 65_536, "o200k_base", "gpt-4.1-nano"),
    BaseModel("gpt-4.1-2025-04-14", 25.00, 65_536, "o200k_base", "gpt-4.1"),
    BaseModel("gpt-4o-2024-08-06", 25.00, 65_536, "o200k_base", "gpt-4o"),
    BaseModel("gpt-3.5-turbo-0125", 8.00, 16_385, "cl100k_base", "gpt-3.5-turbo"),
)
DEFAULT_BASE = BASE_MODELS[0].name
MIN_EXAMPLES = 10  # OpenAI rejects fewer

# OpenAI's cookbook (Chat_finetuning_data_prep): how "auto" chooses the number of epochs.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def base_model(name: str) -> BaseModel | None:
    """The entry for ``name`` (a snapshot or its alias, ``openai:`` prefix allowed).

    A fine-tuned model (``ft:<base>:...``) trains at its base model's price and limit.
    """
    name = name.strip().removeprefix("openai:")
    if name.startswith("ft:"):
        name = name.split(":")[1]
    for model in BASE_MODELS:
        if name in (model.name, model.alias):
            return model
    return None


def default_epochs(examples: int) -> int:
    """The epochs OpenAI's "auto" picks for a dataset of this size (its cookbook's rule)."""
    examples = max(examples, 1)
    if examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // examples)
    if examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // examples)
    return TARGET_EPOCHS


def estimate_cost_usd(billed_tokens: int, epochs: int, base: str) -> float | None:
    """Training cost: tokens × epochs × price; None for a model not in the table."""
    model = base_model(base)
    if model is None:
        return None
    return billed_tokens * epochs * model.usd_per_million_training_tokens / 1_000_000
