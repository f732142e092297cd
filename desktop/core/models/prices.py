"""What an answer costs in money: OpenAI's published per-token prices for its chat models.

Standard-tier prices per 1M tokens (input, output) from OpenAI's pricing page as of
``PRICES_AS_OF``; a fine-tuned model is billed at its own (higher) inference price, listed
there under "Fine-tuning". Local models cost nothing to ask; other servers (an
OpenAI-compatible one the person added) have no price Folio knows.
"""

from __future__ import annotations

from desktop.core.models.ids import LOCAL_PREFIX, OPENAI, split_model_id

PRICES_AS_OF = "2025-06-01"

# model (alias or snapshot prefix) -> USD per 1M (input, output) tokens.
CHAT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
}
FINE_TUNED_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.30, 1.20),
    "gpt-4o": (3.75, 15.00),
    "gpt-4.1-nano": (0.20, 0.80),
    "gpt-4.1-mini": (0.80, 3.20),
    "gpt-4.1": (3.00, 12.00),
    "gpt-3.5-turbo": (3.00, 6.00),
}


def _price(model: str, table: dict[str, tuple[float, float]]) -> tuple[float, float] | None:
    # The longest name that starts the model's: "gpt-4o-mini-2024-07-18" is gpt-4o-mini,
    # not gpt-4o.
    names = [name for name in table if model == name or model.startswith(name + "-")]
    return table[max(names, key=len)] if names else None


def price_per_million(model_id: str) -> tuple[float, float] | None:
    """USD per 1M (input, output) tokens for ``model_id``: (0, 0) for a local model, None
    when Folio knows no price (another server, a model not in the table)."""
    if model_id.startswith(LOCAL_PREFIX):
        return (0.0, 0.0)
    provider, model = split_model_id(model_id)
    if provider != OPENAI:
        return None
    if model.startswith("ft:"):  # ft:<base>:<org>:<suffix>:<id>
        return _price(model.split(":")[1], FINE_TUNED_PRICES)
    return _price(model, CHAT_PRICES)


def cost_usd(model_id: str, tokens_in: int, tokens_out: int) -> float | None:
    """What ``tokens_in`` prompt and ``tokens_out`` answer tokens cost on ``model_id``, in
    USD; None when the price is unknown."""
    price = price_per_million(model_id)
    if price is None:
        return None
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000
