"""Model names a person reads, and which catalog model is suggested for a computer's memory."""

from __future__ import annotations

import pytest

from desktop.core.models.downloads import CATALOG, find_entry
from desktop.core.models.names import (
    CATALOG_NAMES,
    MAX_NAME,
    MAX_WHERE,
    SEPARATOR,
    base_name,
    display_name,
    readable_file_name,
)
from desktop.core.models.suggestion import MEMORY_SHARE, suggested_download, total_memory

GIB = 2**30
# What the person's settings hold for GGUFs they added: name -> file.
LOCAL_FILES = {
    "mine": "/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    "smol": "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
    "qwen2.5-1.5b": "/data/models/gguf/qwen2.5-1.5b-instruct-q4_k_m.gguf",
    "phi3.5-mini": "/elsewhere/my-own-phi.gguf",
}


@pytest.mark.parametrize(
    ("model_id", "name"),
    [
        ("local:default", "SmolLM2 135M · built in"),
        ("openai:gpt-4o-mini", "GPT-4o mini · OpenAI"),
        ("openai:gpt-4o", "GPT-4o · OpenAI"),
        ("openai:gpt-4.1", "GPT-4.1 · OpenAI"),
        ("openai:gpt-4.1-mini", "GPT-4.1 mini · OpenAI"),
        ("openai:o3-mini", "o3-mini · OpenAI"),
        # Not in the table: written as OpenAI writes its others; a snapshot keeps its date.
        ("openai:gpt-5-nano", "GPT-5 nano · OpenAI"),
        ("openai:gpt-4o-mini-2024-07-18", "GPT-4o mini (2024-07-18) · OpenAI"),
        ("openai:chatgpt-4o-latest", "chatgpt-4o-latest · OpenAI"),
        # A server's model as the server lists it.
        ("lab:smollm2", "smollm2 · lab"),
        ("ollama:llama3.2:latest", "llama3.2:latest · ollama"),
        # Downloaded from the catalog: its catalog name.
        ("local:qwen2.5-1.5b", "Qwen2.5 1.5B"),
        ("local:llama3.2-3b", "Llama 3.2 3B"),
        # Added by the person: its file's name, read.
        ("local:mine", "Llama 3.2 3B Instruct (Q4_K_M)"),
        ("local:smol", "SmolLM2 135M Instruct (Q4_1)"),
        # A file added under a catalog model's name is named by its file, not the catalog.
        ("local:phi3.5-mini", "my own phi"),
        # A local name the settings no longer know (an old chat's model): the name itself.
        ("local:gone", "gone"),
    ],
)
def test_each_kind_of_id_has_a_name(model_id: str, name: str) -> None:
    assert display_name(model_id, local_files=LOCAL_FILES) == name


def test_every_catalog_model_has_its_own_curated_name() -> None:
    assert set(CATALOG_NAMES) == {entry.name for entry in CATALOG}
    names = [display_name(f"local:{entry.name}") for entry in CATALOG]
    assert len(set(names)) == len(names)
    assert display_name("local:smollm2-1.7b") == "SmolLM2 1.7B"
    assert display_name("local:phi3.5-mini") == "Phi-3.5 mini"


def test_fine_tuned_models_name_their_base() -> None:
    assert display_name("local:ft:snark", base="local:default") == (
        "snark · fine-tuned from SmolLM2 135M"
    )
    assert display_name("local:ft:calm", local_files=LOCAL_FILES, base="local:mine") == (
        "calm · fine-tuned from Llama 3.2 3B Instruct (Q4_K_M)"
    )
    assert display_name("local:ft:lost") == "lost · fine-tuned"  # its job is gone
    # OpenAI's ids carry their base and the job's suffix.
    tuned = "openai:ft:gpt-4o-mini-2024-07-18:acme:calm:AbC123"
    assert display_name(tuned) == "calm · fine-tuned from GPT-4o mini (2024-07-18) · OpenAI"
    assert display_name("openai:ft:gpt-4o-mini:acme::abc123") == (
        "abc123 · fine-tuned from GPT-4o mini · OpenAI"
    )
    assert display_name("lab:ft:thing") == "thing · fine-tuned from an unknown model · lab"
    assert base_name("openai:gpt-4.1-mini") == "GPT-4.1 mini"


@pytest.mark.parametrize(
    ("file_name", "name"),
    [
        ("Phi-3.5-mini-instruct-Q4_K_M.gguf", "Phi 3.5 mini instruct (Q4_K_M)"),
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "qwen2.5 0.5B instruct (Q4_K_M)"),
        ("mistral_7b_v0.3.IQ3_XS.GGUF", "mistral 7B v0.3 (IQ3_XS)"),
        ("model-f16.gguf", "model (F16)"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2 135M Instruct (Q4_1)"),
        ("notes.gguf", "notes"),
    ],
)
def test_file_names_are_read_as_model_names(file_name: str, name: str) -> None:
    assert readable_file_name(file_name) == name


ODD_IDS = [
    "",
    ":",
    "local:",
    "nocolon",
    "lab:   ",
    "\x00:\x01",
    "lab:\u202egpt\u200b\n-4",  # a right-to-left override, a zero-width space, a newline
    "local:caf\udce9",  # a file name byte that is not UTF-8
    "openai:ft:::",
    "openai:ft:",
    "lab:ft:",
    "openai:" + "gpt-" * 80,
    "lab:" + "x" * 500,
    "a" * 300 + ":" + "b" * 300,
    "local:ft:" + "y" * 200,
    "openai:ft:gpt-4o-mini:org:" + "s" * 90 + ":id",
]


@pytest.mark.parametrize("model_id", ODD_IDS)
def test_any_id_gets_a_short_printable_label(model_id: str) -> None:
    label = display_name(model_id, local_files={"caf\udce9": "/m/caf\udce9.gguf"}, base=model_id)
    assert label.strip() and label == label.strip()
    assert label.isprintable(), repr(label)
    for part in label.split(SEPARATOR):
        assert len(part) <= len("fine-tuned from ") + MAX_NAME
    assert len(label) <= 3 * MAX_NAME + MAX_WHERE + 30


def test_a_long_id_is_elided_in_the_middle_keeping_both_ends() -> None:
    model = "very-long-model-name-" + "x" * 80 + "-final-part"
    name, where = display_name(f"lab:{model}").split(SEPARATOR)
    assert len(name) == MAX_NAME and "…" in name
    assert name.startswith("very-long-model") and name.endswith("-final-part")
    assert where == "lab"
    server = "s" * 60
    assert len(display_name(f"{server}:m").split(SEPARATOR)[1]) == MAX_WHERE


# -- the suggestion ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("memory", "suggested"),
    [
        (1 * GIB, None),  # nothing in the catalog runs beside the system in 1 GB
        (2 * GIB, None),  # Qwen2.5 0.5B takes 1 GB: more than 45% of 2 GiB
        (3 * GIB, "qwen2.5-0.5b"),
        (4 * GIB, "llama3.2-1b"),
        (6 * GIB, "qwen2.5-1.5b"),  # as much memory as SmolLM2 1.7B, a larger download
        (int(7.7 * GIB), "llama3.2-3b"),  # an 8 GB laptop as psutil reports it
        (8 * GIB, "llama3.2-3b"),  # the catalog: Llama 3.2 3B "wants 8 GB of RAM"
        (16 * GIB, "phi3.5-mini"),
        (64 * GIB, "phi3.5-mini"),
    ],
)
def test_the_largest_catalog_model_that_fits_the_memory_is_suggested(
    memory: int, suggested: str | None
) -> None:
    entry = suggested_download(memory)
    assert (entry.name if entry else None) == suggested
    if entry is not None:
        assert entry.ram_gb <= memory / 1e9 * MEMORY_SHARE
        bigger = [e for e in CATALOG if e.ram_gb > entry.ram_gb]
        assert all(e.ram_gb > memory / 1e9 * MEMORY_SHARE for e in bigger)


def test_a_model_already_in_the_list_is_not_suggested() -> None:
    assert suggested_download(16 * GIB, downloaded={"phi3.5-mini"}) is None
    # Something else downloaded does not change what suits the computer.
    assert suggested_download(16 * GIB, downloaded={"qwen2.5-0.5b"}) == find_entry("phi3.5-mini")


def test_this_computer_has_a_memory_size() -> None:
    assert total_memory() > 256 * 2**20
