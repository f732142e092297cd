"""What still relies on a model or a server, so that removing it can be refused first.

A server or local model removed while the library's vectors, the default model, a
fine-tuned model or a training run still name it leaves them broken, and the errors that
follow ("Unknown provider 'lab'") no longer say why. The caller gathers the uses; this
module judges them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.core.errors import ModelError
from desktop.core.models.local_files import LOCAL_EMBEDDING_ID


@dataclass(frozen=True)
class ModelUses:
    """The model ids a data folder relies on, by what relies on them."""

    default_model: str
    embedding_model: str  # the one the library's vectors are made with
    # Each fine-tuned model's id -> the id of the base model it was trained on.
    fine_tuned: dict[str, str] = field(default_factory=dict)
    # Each unfinished fine-tuning job's id -> the id of the model it trains.
    training: dict[str, str] = field(default_factory=dict)


def server_models(name: str) -> Callable[[str], bool]:
    """Whether a model id is one of server ``name``'s (``name:<model>``)."""
    return lambda model_id: model_id.partition(":")[0] == name


def removal_refused(shown: str, goes: Callable[[str], bool], uses: ModelUses) -> ModelError | None:
    """A ModelError naming every use of the models that removing ``shown`` ("The server
    lab", "local:mini") takes away, those ``goes`` is true for, each with what to do first;
    None when nothing relies on them."""
    window: list[str] = []
    cli: list[str] = []
    if goes(uses.embedding_model):
        made = f"the library's vectors are made with {uses.embedding_model} (switch the library "
        window.append(
            f"{made}to another embedding model first, in Models and Providers → Embeddings)"
        )
        cli.append(
            f"{made}to another embedding model first, e.g. `folio-cli reembed "
            f"{LOCAL_EMBEDDING_ID}`)"
        )
    if goes(uses.default_model):
        default = (
            f'{uses.default_model} is the default model (set "default_model" in settings.json in '
            "the data folder to another model first)"
        )
        window.append(default)
        cli.append(default)
    tuned = sorted(m for m, base in uses.fine_tuned.items() if goes(base) and not goes(m))
    if tuned:
        was = _agreed(tuned, "was", "were")
        made = f"{_listed('the fine-tuned model', tuned)} {was} trained on it"
        them = _agreed(tuned, "it", "them")
        window.append(f"{made} (remove {them} first)")
        cli.append(f"{made} (remove {them} first: `folio-cli models remove {tuned[0]}`)")
    runs = sorted(job for job, model in uses.training.items() if goes(model))
    if runs:
        still = f"{_listed('the fine-tuning job', runs)} {_agreed(runs, 'is', 'are')} still "
        still += "running on it"
        them = _agreed(runs, "it", "them")
        window.append(f"{still} (let {them} end, or cancel {them} first)")
        cli.append(
            f"{still} (let {them} end, or cancel {them} first: `folio-cli finetune cancel "
            f"{runs[0]}`)"
        )
    if not window:
        return None
    lead = f"{shown} is still in use, so it was not removed: "
    return ModelError(lead + "; ".join(window) + ".", cli=lead + "; ".join(cli) + ".")


def _listed(noun: str, names: list[str]) -> str:
    """ "the fine-tuned model local:ft:a", "the fine-tuned models local:ft:a and local:ft:b"."""
    if len(names) == 1:
        return f"{noun} {names[0]}"
    return f"{noun}s {', '.join(names[:-1])} and {names[-1]}"


def _agreed(names: list[str], one: str, many: str) -> str:
    """``one`` for a single name, else ``many``: "was"/"were", "it"/"them"."""
    return one if len(names) == 1 else many
