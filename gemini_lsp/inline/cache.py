"""Answers reused while the user types them, or goes back and forth over them (pure).

An entry is the text around the cursor when the answer was asked for (`before` and `after`
windows) and the fitted answer. It still holds at a cursor whose `after` is the same and whose
`before` is the entry's plus some text the answer starts with: what is left of the answer is
the suggestion there.
"""

from __future__ import annotations

from collections import OrderedDict

# Window sizes for the key: enough code to tell places apart, little enough to compare fast.
KEY_BEFORE = 400
KEY_AFTER = 200


def continuation(key_before: str, key_after: str, text: str, before: str, after: str) -> str | None:
    """What is left of `text` (asked for at `key_before`|`key_after`) at a cursor with
    `before`|`after` around it, or None when it does not apply there.

    `before` must be a window at least `len(text)` longer than `key_before` (or reach the
    start of the file), `after` one of the same size as `key_after`.
    """
    if after != key_after:
        return None
    lowest = max(len(before) - len(text) - len(key_before), 0)
    found = before.rfind(key_before, lowest)
    while found >= 0:
        typed = before[found + len(key_before) :]
        if len(typed) < len(text) and text.startswith(typed):
            return text[len(typed) :]
        if found == lowest:
            break
        found = before.rfind(key_before, lowest, found + len(key_before) - 1)
    return None


class SuggestionCache:
    """The latest answers, per document, the least recently used going first."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self.longest = 0  # the longest answer held: lookups need a window that much longer

    def put(self, uri: str, before: str, after: str, text: str) -> None:
        if not text:
            return
        key = (uri, before[-KEY_BEFORE:], after[:KEY_AFTER])
        self._entries[key] = text
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)
        self.longest = max(self.longest, len(text))

    def get(self, uri: str, before: str, after: str) -> str | None:
        """The rest of a held answer that applies at this cursor; `before` is a window of
        at least KEY_BEFORE + `longest` characters, `after` one of KEY_AFTER."""
        after = after[:KEY_AFTER]
        for key in reversed(self._entries):
            if key[0] != uri:
                continue
            rest = continuation(key[1], key[2], self._entries[key], before, after)
            if rest is not None:
                self._entries.move_to_end(key)
                return rest
        return None

    def forget(self, uri: str) -> None:
        for key in [key for key in self._entries if key[0] == uri]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()
        self.longest = 0

    def __len__(self) -> int:
        return len(self._entries)
