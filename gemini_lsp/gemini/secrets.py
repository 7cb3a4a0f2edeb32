"""API keys: what a usable key looks like, and `mask`, the one function every output of the
process passes through (log records at every level, stderr, every protocol message but the
edits, error answers, the headless client's terminal).

A key is masked in every shape it can be printed in: as configured, stripped, and as any
escaping prints it — Python's repr (either quote style, str or UTF-8 bytes), `ascii()`,
`unicode_escape`, JSON (ASCII or not), percent-encoding — and each of those escaped once
more (a repr of a JSON body, JSON of a repr …). As a last line, every run of eight or more
ASCII letters and digits of a key is masked wherever it appears: escaping never changes
those characters, so even an escaping not listed here cannot print the key whole.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values are not keys, and masking them would mask ordinary words.
MIN_KEY_CHARS = 8
# Keys the process remembers for masking: the settings' and the environment's, and those
# replaced by newer ones; more would be a client sending keys in a loop.
MAX_KEYS = 32
# The SDK's own key variables (it prefers GOOGLE_API_KEY when both are set).
KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

# Google API keys have this shape: masked even before the process has seen them.
_GOOGLE_KEY = re.compile(r"AIza[0-9A-Za-z_-]{35}")
_RUN = re.compile(rf"[A-Za-z0-9]{{{MIN_KEY_CHARS},}}")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


class InvalidKeyError(ValueError):
    """A key that cannot be used; the message says where it came from and why, never what
    it is."""


def key_problem(value: str) -> str | None:
    """Why `value` (surrounding whitespace aside, as the SDK strips it) cannot be an API key,
    or None. An HTTP header carries printable ASCII only: anything else would make the HTTP
    library fail with an error message that quotes the header, key and all."""
    core = value.strip()
    if not core:
        return "is empty"
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in core):
        return "contains a control character"
    if any(c.isspace() for c in core):
        return "contains whitespace"
    if not core.isascii():
        return "contains a character that is not ASCII"
    if len(core) < MIN_KEY_CHARS:
        return f"is shorter than {MIN_KEY_CHARS} characters"
    return None


def usable_key(value: str, source: str) -> str:
    """The key to send (stripped), or InvalidKeyError naming `source` and never the key."""
    problem = key_problem(value)
    if problem is not None:
        raise InvalidKeyError(
            f"The Gemini API key in {source} {problem}, so it is not used — set it again "
            "(a key is printable ASCII without spaces)"
        )
    return value.strip()


def environment_key(environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """`(variable, value)` of the key the SDK takes from the environment, if any."""
    environ = os.environ if environ is None else environ
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY"):
        value = environ.get(name)
        if value:
            return name, value
    return None


# -- the shapes a key is printed in ------------------------------------------------------------


def _per_char(escape: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: "".join(escape(c) for c in text)


def _quoted(escape: Callable[[str], str]) -> Callable[[str], str]:
    """The same escaping where `'` is escaped too (a repr whose text holds both quotes)."""
    return lambda text: "".join("\\'" if c == "'" else escape(c) for c in text)


def _repr_char(c: str) -> str:
    return repr(c)[1:-1]


def _ascii_char(c: str) -> str:
    return ascii(c)[1:-1]


def _bytes_repr(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    return "".join(repr(bytes([b]))[2:-1] for b in data)


def _bytes_repr_quoted(text: str) -> str:
    data = text.encode("utf-8", "surrogatepass")
    return "".join("\\'" if b == 0x27 else repr(bytes([b]))[2:-1] for b in data)


def _unicode_escape(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii")


def _json_ascii(text: str) -> str:
    return json.dumps(text)[1:-1]


def _json_unicode(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _percent(text: str) -> str:
    return quote(text, safe="", errors="surrogatepass")


def _percent_path(text: str) -> str:
    return quote(text, errors="surrogatepass")


def _percent_plus(text: str) -> str:
    return quote_plus(text, safe="", errors="surrogatepass")


def _lower_percent(escape: Callable[[str], str]) -> Callable[[str], str]:
    return lambda text: _PERCENT.sub(lambda m: m.group(0).lower(), escape(text))


ESCAPES: tuple[Callable[[str], str], ...] = (
    _per_char(_repr_char),
    _quoted(_repr_char),
    _per_char(_ascii_char),
    _quoted(_ascii_char),
    _bytes_repr,
    _bytes_repr_quoted,
    _unicode_escape,
    _json_ascii,
    _json_unicode,
    _percent,
    _percent_path,
    _percent_plus,
    _lower_percent(_percent),
    _lower_percent(_percent_plus),
)


def shapes(key: str) -> set[str]:
    """Every shape `key` can be printed in: as it is and stripped, escaped once or twice."""
    found: set[str] = set()
    for value in {key, key.strip()}:
        once = {value}
        for escape in ESCAPES:
            once.add(escape(value))
        found |= once
        for text in once:
            for escape in ESCAPES:
                found.add(escape(text))
    return {shape for shape in found if len(shape) >= MIN_KEY_CHARS}


class _KeyMask:
    """One key's shapes as one pattern, longest first, and a quick test that skips texts
    that cannot hold any of them."""

    def __init__(self, key: str) -> None:
        runs = sorted(set(_RUN.findall(key)), key=len, reverse=True)
        alternatives = sorted(shapes(key) | set(runs), key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(a) for a in alternatives))
        # Every shape holds every run: a text without the longest run holds no shape.
        self.anchor = runs[0] if runs else None

    def mask(self, text: str) -> str:
        if self.anchor is not None and self.anchor not in text:
            return text
        return self.pattern.sub(MASK, text)


class Secrets:
    """The keys this process has seen, and the masking of them."""

    def __init__(self, keys: Iterable[object] = ()) -> None:
        self._masks: OrderedDict[str, _KeyMask] = OrderedDict()
        self._pinned: dict[str, _KeyMask] = {}  # the environment's: never forgotten
        for key in keys:
            self.add(key)

    def add(self, key: object, pin: bool = False) -> None:
        """Remember a key (any string: one that is not usable is masked all the same); the
        oldest is forgotten past MAX_KEYS, unless pinned."""
        if not isinstance(key, str) or len(key.strip()) < MIN_KEY_CHARS:
            return
        key = key.strip()
        if key in self._pinned:
            return
        known = self._masks.pop(key, None) or _KeyMask(key)
        if pin:
            self._pinned[key] = known
            return
        self._masks[key] = known
        while len(self._masks) > MAX_KEYS:
            self._masks.popitem(last=False)

    def update(self, keys: Iterable[object]) -> None:
        for key in keys:
            self.add(key)

    def add_environment(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        for name in KEY_VARIABLES:
            self.add(environ.get(name), pin=True)

    def __len__(self) -> int:
        return len(self._masks) + len(self._pinned)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        return key.strip() in self._masks or key.strip() in self._pinned

    def mask(self, text: str) -> str:
        """`text` without any key, in any shape."""
        for key_mask in [*self._pinned.values(), *self._masks.values()]:
            text = key_mask.mask(text)
        return _GOOGLE_KEY.sub(MASK, text)

    def mask_json(self, body: str) -> str:
        """A protocol message, serialized, with every key masked in its strings: the body
        itself when it holds none."""
        if self.mask(body) == body:
            return body
        return json.dumps(_mask_strings(json.loads(body), self.mask))


def _mask_strings(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_mask_strings(item, mask) for item in value]
    if isinstance(value, dict):
        return {mask(name): _mask_strings(item, mask) for name, item in value.items()}
    return value


# Every key the process has seen: the log formatter, stderr, the protocol, the errors and
# the headless client all mask with it.
KEYS = Secrets()


def mask(text: str) -> str:
    """`text` with every key the process has seen masked, in any shape."""
    return KEYS.mask(text)


class MaskedStream:
    """A text stream (stderr) that masks what is written to it."""

    def __init__(self, stream: Any, secrets: Secrets = KEYS) -> None:
        self._stream = stream
        self._secrets = secrets

    def write(self, text: str) -> int:
        self._stream.write(self._secrets.mask(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
