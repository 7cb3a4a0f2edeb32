"""What a streamed generation must leave behind, judged from the client's own records.

The client knows each character's origin (original text, user, or a generation) without
asking the server, so the checks here cannot share a bug with the engine.
"""

from __future__ import annotations

from testkit.document import ClientDocument, is_generated


def check_generation(
    document: ClientDocument, origin: int, expected: str, original_offset: int
) -> None:
    """The generated text is in the document exactly once, in order and in place.

    - its characters, concatenated, are `expected`;
    - among original and generated characters the order is exactly
      original[:p] + generated + original[p:], less what the user deleted;
    - they are contiguous unless the user typed strictly inside them, and then only user
      text separates them;
    - no character of the user's or of the original was removed by the server (unless it
      put it back where it was).
    """
    text = document.text
    origins = _as_told_apart(text, document.origins, origin, original_offset)
    assert document.generated(origin) == expected, (
        f"generated text differs:\n got {document.generated(origin)!r}\nwant {expected!r}\n"
        f"document {text!r}"
    )
    kept = [o for o in origins if o >= 0 or o == origin]
    originals = [o for o in kept if o >= 0]
    assert originals == sorted(originals), "original text was reordered"
    before = [o for o in originals if o < original_offset]
    after = [o for o in originals if o >= original_offset]
    assert kept == [*before, *([origin] * len(expected)), *after], (
        f"the generation is not at its anchor: {text!r}"
    )
    places = [i for i, o in enumerate(origins) if o == origin]
    if places:
        inside = origins[places[0] : places[-1] + 1]
        strangers = [o for o in inside if o != origin]
        if origin in document.typed_inside:
            assert all(o < 0 and not is_generated(o) for o in strangers), (
                f"only the user's text may split the generation: {text!r}"
            )
        else:
            assert not strangers, f"the generation is not contiguous: {text!r}"
    check_nothing_removed(document)


def _as_told_apart(text: str, origins: list[int], origin: int, offset: int) -> list[int]:
    """The client's origins, or, when they put the generation out of place, an arrangement
    with the generation in place that gives the very same text, if there is one.

    In repeated text no one can tell which character came from where: an edit lost and
    sent again that lands one line later than the first would have leaves the same text
    (as in a document of empty lines). The client's records pick one arrangement; one that
    reads the same is as true.
    """
    if _in_place(origins, origin, offset):
        return origins
    generated = "".join(c for c, o in zip(text, origins, strict=True) if o == origin)
    rest = [(c, o) for c, o in zip(text, origins, strict=True) if o != origin]
    for cut in range(len(rest) + 1):
        head, tail = rest[:cut], rest[cut:]
        candidate = [o for _, o in head] + [origin] * len(generated) + [o for _, o in tail]
        reads = "".join(c for c, _ in head) + generated + "".join(c for c, _ in tail)
        if reads == text and _in_place(candidate, origin, offset):
            return candidate
    return origins


def _in_place(origins: list[int], origin: int, offset: int) -> bool:
    kept = [o for o in origins if o >= 0 or o == origin]
    originals = [o for o in kept if o >= 0]
    before = [o for o in originals if o < offset]
    after = [o for o in originals if o >= offset]
    return kept == [*before, *([origin] * (len(kept) - len(originals))), *after]


def check_nothing_removed(document: ClientDocument) -> None:
    lost = [
        (stone.offset, stone.text)
        for stone in document.tombstones
        if any(not is_generated(o) for o in stone.origins)
    ]
    assert not lost, f"the server removed the user's or the original text: {lost!r}"
