"""What a streamed generation must leave behind, judged from the client's own records.

The client knows each character's origin (original text, user, or a generation) without
asking the server, so the checks here cannot share a bug with the engine.
"""

from __future__ import annotations

from tests.clients import ClientDocument, is_generated


def anchor_offset(document: ClientDocument, original_offset: int) -> int:
    """Where the original text's offset `original_offset` is now in the client's text."""
    before = [i for i, o in enumerate(document.origins) if 0 <= o < original_offset]
    if before:
        return before[-1] + 1
    after = [i for i, o in enumerate(document.origins) if o >= original_offset]
    return after[0] if after else len(document.text)


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
    text, origins = document.text, document.origins
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
    span = document.span(origin)
    if span is not None:
        inside = origins[span[0] : span[1]]
        strangers = [o for o in inside if o != origin]
        if origin in document.typed_inside:
            assert all(o < 0 and not is_generated(o) for o in strangers), (
                f"only the user's text may split the generation: {text!r}"
            )
        else:
            assert not strangers, f"the generation is not contiguous: {text!r}"
    check_nothing_removed(document)


def check_nothing_removed(document: ClientDocument) -> None:
    lost = [
        (stone.offset, stone.text)
        for stone in document.tombstones
        if any(not is_generated(o) for o in stone.origins)
    ]
    assert not lost, f"the server removed the user's or the original text: {lost!r}"
