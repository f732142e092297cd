"""Training examples from chat answers a person liked (thumbs up in the chat pane)."""

from __future__ import annotations

from desktop.core.chat.history import ChatStore
from desktop.core.errors import ChatError
from desktop.core.finetune.examples import Example


def liked_examples(chats: ChatStore, include_system_prompt: bool = False) -> list[Example]:
    """One example per liked assistant answer: the question before it, then the answer.

    With ``include_system_prompt``, an answer given by a persona starts with that persona's
    system prompt (as it is now in the persona library); without, the model learns to answer
    that way with no prompt at all. Disliked and unrated answers are left out, and so are
    interrupted ones.

    Earlier turns are not included: the dataset teaches a voice, and one question with the
    answer liked for it teaches it without carrying other turns' content (or answers nobody
    rated) into the example. The question is as the person typed it: retrieved sources
    were part of the prompt, not of the question, and citations are not part of the answer.
    A persona deleted since the answer was given has no prompt left to include: its
    answers come without one. Answers that are empty are left out.
    """
    examples: list[Example] = []
    prompts: dict[str, str | None] = {}
    for question, answer in chats.liked():
        if answer.interrupted or not answer.content.strip():
            continue
        messages: list[dict[str, str]] = []
        if include_system_prompt and answer.persona:
            if answer.persona not in prompts:
                prompts[answer.persona] = _current_prompt(chats, answer.persona)
            prompt = prompts[answer.persona]
            if prompt:
                messages.append({"role": "system", "content": prompt})
        messages.append({"role": "user", "content": question.content})
        messages.append({"role": "assistant", "content": answer.content})
        examples.append(Example(messages))
    return examples


def _current_prompt(chats: ChatStore, persona: str) -> str | None:
    try:
        return chats.personas.get(persona).prompt
    except ChatError:  # deleted since
        return None
