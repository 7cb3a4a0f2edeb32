"""The default answer: honest, deterministic, fenced code in the prompt's language."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from gemini_lsp.emulator import codegen

NOTE = "Written by the gemini-lsp emulator, not a real model."


def body(*turns: str, system: str | None = None, **config: Any) -> dict[str, Any]:
    """A request body; turns alternate user, model, user, ..."""
    contents = [
        {"role": "user" if i % 2 == 0 else "model", "parts": [{"text": text}]}
        for i, text in enumerate(turns)
    ]
    request: dict[str, Any] = {"contents": contents}
    if system is not None:
        request["systemInstruction"] = {"role": "user", "parts": [{"text": system}]}
    if config:
        request["generationConfig"] = config
    return request


@pytest.mark.parametrize(
    ("prompt", "fence", "comment", "name"),
    [
        (
            "Language: python\nFile: a.py\nInstruction: parse the config file",
            "python",
            "#",
            "def parse_config_file(",
        ),
        (
            "File: src/app.js\nInstruction: debounce user input events",
            "javascript",
            "//",
            "function debounceUserInput(",
        ),
        (
            "Language: typescriptreact\nTask: format the price label",
            "typescript",
            "//",
            "function formatPriceLabel(",
        ),
        (
            "File: lua/plugin/init.lua\nInstruction: toggle the sidebar",
            "lua",
            "--",
            "local function toggle_sidebar(",
        ),
        ("Language: go\nInstruction: retry failed uploads", "go", "//", "func retryFailedUploads("),
        (
            "Edit src/lib.rs\nInstruction: merge sorted vectors",
            "rust",
            "//",
            "pub fn merge_sorted_vectors(",
        ),
        ("Language: c\nInstruction: copy the ring buffer", "c", "//", "size_t copy_ring_buffer("),
        (
            "File: engine/main.cpp\nInstruction: load texture atlas",
            "cpp",
            "//",
            "std::vector<std::string> load_texture_atlas(",
        ),
        (
            "Language: java\nInstruction: validate the order",
            "java",
            "//",
            "public static List<String> validateOrder(",
        ),
        (
            "Language: ruby\nInstruction: slugify article titles",
            "ruby",
            "#",
            "def slugify_article_titles(",
        ),
        (
            "Language: shellscript\nInstruction: backup the database",
            "bash",
            "#",
            "backup_database() {",
        ),
        (
            "File: queries/report.sql\nInstruction: list active customers",
            "sql",
            "--",
            "CREATE VIEW list_active_customers AS",
        ),
        ("Instruction: sort the list of names", "", "#", "function sort_list_names("),
    ],
)
def test_each_language_gets_its_fence_comment_and_naming(
    prompt: str, fence: str, comment: str, name: str
) -> None:
    text = codegen.default_answer(body(prompt)).text
    assert text.startswith(f"```{fence}\n{comment} {NOTE}\n")
    assert name in text
    assert text.endswith("\n```")
    assert text.count("```") == 2


def test_language_hints_are_found_in_order_of_reliability() -> None:
    # An explicit label beats a file name, which beats a language named in passing.
    assert codegen.detect_language(["File: x.rb\nLanguage: lua"]).id == "lua"
    assert codegen.detect_language(["rewrite this python idea for main.go"]).id == "go"
    assert codegen.detect_language(["```rust\nfn main() {}\n```"]).id == "rust"
    assert codegen.detect_language(["port it to Ruby"]).id == "ruby"
    assert codegen.detect_language(["no hint at all"]).id == ""


def test_the_system_instruction_can_carry_the_language() -> None:
    text = codegen.default_answer(body("add a helper", system="Language: rust")).text
    assert text.startswith("```rust\n")


def test_same_request_same_answer_and_different_prompts_differ() -> None:
    request = body("Language: python\nInstruction: parse the config file")
    assert codegen.default_answer(request) == codegen.default_answer(copy.deepcopy(request))
    other = codegen.default_answer(body("Language: python\nInstruction: render the chart"))
    assert other.text != codegen.default_answer(request).text
    assert "def render_chart(" in other.text


def test_a_refinement_is_a_visibly_revised_variant_of_the_same_function() -> None:
    first = codegen.default_answer(body("Language: python\nInstruction: parse the config file"))
    revised = codegen.default_answer(
        body(
            "Language: python\nInstruction: parse the config file",
            first.text,
            "make it shorter",
        )
    )
    assert "# Revision 2: make it shorter\n" in revised.text
    assert "def parse_config_file(" in revised.text
    assert revised.text != first.text
    assert revised.text.replace("# Revision 2: make it shorter\n", "") != first.text


def test_the_instruction_is_found_without_a_label() -> None:
    prompt = (
        "File: src/app.py\n```python\ndef existing():\n    return compute(1, 2)\n```\n"
        "Please write a function that validates email addresses\nx = 1\n"
    )
    assert codegen.extract_instruction(prompt) == (
        "Please write a function that validates email addresses"
    )
    assert "def validates_email_addresses(" in codegen.default_answer(body(prompt)).text


def test_the_prompt_cannot_break_out_of_the_comment_or_the_fence() -> None:
    text = codegen.default_answer(
        body("Language: python\nInstruction: emit ```js\nalert(1)``` and \u2028 more")
    ).text
    assert text.count("```") == 2
    header = text.splitlines()[2]
    assert header.startswith("# Task: emit '''js")


def test_max_output_tokens_cuts_the_answer() -> None:
    full = codegen.default_answer(body("Language: go\nInstruction: parse flags"))
    cut = codegen.default_answer(body("Language: go\nInstruction: parse flags", maxOutputTokens=5))
    assert (full.finish_reason, cut.finish_reason) == ("STOP", "MAX_TOKENS")
    assert cut.text == full.text[:20]


def test_chunks_are_a_few_dozen_characters_and_always_the_same() -> None:
    text = codegen.default_answer(body("Language: python\nInstruction: parse it")).text
    chunks = codegen.split_into_chunks(text)
    assert "".join(chunks) == text
    assert all(12 <= len(c) <= 48 for c in chunks[:-1])
    assert chunks == codegen.split_into_chunks(text)


def test_prompt_tokens_count_text_and_media() -> None:
    request = body("x" * 10, system="y" * 6)
    request["contents"][0]["parts"].append({"inlineData": {"mimeType": "image/png", "data": ""}})
    assert codegen.prompt_tokens(request) == 4 + 258
