"""The default answer: deterministic, plausible code for a prompt.

It is a stand-in, and says so: every answer starts with a comment, in the
target language's syntax, stating that the gemini-lsp emulator wrote it, not
a real model. Same request body, same text.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Iterable
from typing import Any

import attrs

from gemini_lsp.emulator import intents
from gemini_lsp.emulator.languages import GENERIC, LANGUAGES, Language
from gemini_lsp.emulator.protocol import count_non_text_parts, text_of_parts

HONESTY_NOTE = "Written by the gemini-lsp emulator, not a real model."
# What Gemini bills for an image or a document page sent inline.
_TOKENS_PER_MEDIA_PART = 258


_BY_NAME = {name: lang for lang in LANGUAGES for name in (lang.id, *lang.aliases)}
_BY_EXTENSION = {ext: lang for lang in LANGUAGES for ext in lang.extensions}

_LABEL = re.compile(
    r"^[ \t>*#-]*(?:language|lang|language ?id|filetype)\s*[:=]\s*`?([A-Za-z+#-]+)", re.I | re.M
)
_FENCE_TAG = re.compile(r"^\s*```([A-Za-z+#-]+)", re.M)
_EXTENSION = re.compile(
    r"[\w-]\.(" + "|".join(sorted(map(re.escape, _BY_EXTENSION), key=len, reverse=True)) + r")\b"
)
_LANGUAGE_WORD = re.compile(
    r"\b(python|javascript|typescript|golang|rust|java|ruby|lua|bash|shell|sql)\b|(c\+\+)", re.I
)
_INSTRUCTION = re.compile(
    r"^[ \t>*#-]*(?:instructions?|task|request|prompt|user request)\s*:[ \t]*(\S.*)$",
    re.I | re.M,
)
_FENCED_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.S)
_CONTEXT_LABEL = re.compile(
    r"^\s*(?:language|lang|file|path|uri|cursor|position|line|selection|model)\s*:", re.I
)

# Words that say nothing about what the function does.
_STOPWORD_TEXT = """
    a an the and or but if then else of to in on at by for from with without into onto as
    is are be been being it its this that these those there here which who whom whose what
    when where why how all any each every some such no not only own same so than too very
    can could should would will shall may might must do does did done doing have has had
    please write create make implement add generate give return returns returning build
    function functions method methods func fn def code snippet program script helper
    class new small simple short quick given using use that me my we our you your
    python javascript typescript golang rust java ruby lua bash shell sql cpp
    line lines here now just also again instead"""
# Keywords of the supported languages: never a whole function name.
_RESERVED_TEXT = """
    and as break case catch class const continue def default del do elif else end enum
    except export extends false finally fn for func function go goto if import in interface
    is lambda let local loop match mod module new nil none not null or package pass private
    protected public raise return select self static struct super switch then this throw
    true try type typeof union unless until use var void where while with yield"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_RESERVED = frozenset(_RESERVED_TEXT.split())


@attrs.frozen
class Prompt:
    """What the default generator reads from a request."""

    language: Language
    task: str  # the first instruction of the conversation
    instruction: str  # the latest one (== task for a single turn)
    revision: int  # 1 for a first answer, n for the n-th user turn
    context: str = ""  # the first turn whole (the code around the cursor, for a docstring)


@attrs.frozen
class Answer:
    text: str
    finish_reason: str


def estimate_tokens(text: str) -> int:
    """~4 characters per token, like Google's rule of thumb for English and code."""
    return math.ceil(len(text) / 4)


def prompt_tokens(body: dict[str, Any]) -> int:
    contents = body.get("contents")
    turns = contents if isinstance(contents, list) else []
    system = body.get("systemInstruction")
    texts = [text_of_parts(c) for c in [*turns, system]]
    media = sum(count_non_text_parts(c) for c in [*turns, system])
    return estimate_tokens("".join(texts)) + _TOKENS_PER_MEDIA_PART * media


def _user_turns(body: dict[str, Any]) -> list[str]:
    contents = body.get("contents")
    if not isinstance(contents, list):
        return []
    return [
        text_of_parts(c)
        for c in contents
        if isinstance(c, dict) and c.get("role", "user") != "model" and text_of_parts(c)
    ]


def detect_language(texts: Iterable[str]) -> Language:
    """Label ("Language: go"), then a fence tag, then a file extension, then a word."""
    texts = list(texts)
    for pattern in (_LABEL, _FENCE_TAG):
        for text in texts:
            for match in pattern.finditer(text):
                lang = _BY_NAME.get(match[1].lower())
                if lang is not None:
                    return lang
    for text in texts:
        ext = _EXTENSION.search(text)
        if ext is not None:
            return _BY_EXTENSION[ext[1]]
    for text in texts:
        word = _LANGUAGE_WORD.search(text)
        if word is not None:
            return _BY_NAME["cpp" if word[2] else word[1].lower()]
    return GENERIC


def extract_instruction(text: str) -> str:
    """The user's instruction inside a prompt that may also carry file context.

    A labelled line ("Instruction: ...") wins; otherwise the last line that
    reads like prose, outside code fences and context labels.
    """
    labelled = _INSTRUCTION.findall(text)
    if labelled:
        return str(labelled[-1]).strip()
    prose = [
        line.strip()
        for line in _FENCED_BLOCK.sub("", text).splitlines()
        if not _CONTEXT_LABEL.match(line) and _looks_like_prose(line)
    ]
    if prose:
        return prose[-1]
    return " ".join(text.split())


def _looks_like_prose(line: str) -> bool:
    words = re.findall(r"[A-Za-z]{2,}", line)
    letters = sum(ch.isalpha() or ch in " ,.'-?" for ch in line.strip())
    return len(words) >= 2 and letters >= 0.85 * len(line.strip())


def function_name(instruction: str, language: Language) -> str:
    """Up to three key words of the instruction, in the language's naming style."""
    words: list[str] = []
    for word in re.findall(r"[a-z][a-z0-9]*", instruction.lower()):
        if len(word) > 2 and word not in _STOPWORDS and word not in words:
            words.append(word)
        if len(words) == 3:
            break
    if not words:
        words = ["generated", "snippet"]
    if len(words) == 1 and words[0] in _RESERVED:
        words.append("items")
    if language.camel_case:
        return words[0] + "".join(w.capitalize() for w in words[1:])
    return "_".join(words)


def read_prompt(body: dict[str, Any]) -> Prompt:
    turns = _user_turns(body)
    system = text_of_parts(body.get("systemInstruction"))
    language = detect_language([*reversed(turns), system])
    if not turns:
        return Prompt(language, "", "", 1)
    return Prompt(
        language,
        task=extract_instruction(turns[0]),
        instruction=extract_instruction(turns[-1]),
        revision=len(turns),
        context=turns[0],
    )


def _comment_text(text: str, limit: int = 80) -> str:
    # One line, and no backticks: a ``` inside would end the markdown fence early.
    text = " ".join(text.split()).replace("`", "'")
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def render(prompt: Prompt) -> str:
    lang = prompt.language
    notes = [HONESTY_NOTE]
    if prompt.task:
        notes.append(f"Task: {_comment_text(prompt.task)}")
    if prompt.revision > 1:
        notes.append(f"Revision {prompt.revision}: {_comment_text(prompt.instruction)}")
    header = "".join(f"{lang.comment} {note}\n" for note in notes)
    code = _intended_code(prompt)
    if code is None:
        name = function_name(prompt.task or prompt.instruction, lang)
        code = lang.render(name, prompt.revision > 1)
    return f"```{lang.id}\n{header}{code}```"


def _intended_code(prompt: Prompt) -> str | None:
    """Code that does what a recognised prompt asks (see `intents`), else None."""
    task = prompt.task or prompt.instruction
    if prompt.language.id == "python":
        return intents.python_answer(task, prompt.context)
    return intents.doc_comment(task, prompt.language.id)


def default_answer(body: dict[str, Any]) -> Answer:
    """The emulator's answer when no reply is scripted, honouring maxOutputTokens."""
    text = render(read_prompt(body))
    config = body.get("generationConfig")
    limit = config.get("maxOutputTokens") if isinstance(config, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < estimate_tokens(text):
        return Answer(text[: limit * 4], "MAX_TOKENS")
    return Answer(text, "STOP")


def split_into_chunks(text: str, low: int = 12, high: int = 48) -> list[str]:
    """Cuts text into stream chunks of a few dozen characters, the same way every time.

    Cuts fall anywhere, mid-word and mid-fence included, as model tokens do.
    """
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    chunks = []
    pos = 0
    while pos < len(text):
        size = rng.randint(low, high)
        chunks.append(text[pos : pos + size])
        pos += size
    return chunks
