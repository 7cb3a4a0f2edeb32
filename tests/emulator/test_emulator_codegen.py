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


# Prompts shaped as the server sends them: the file around the cursor, then the instruction.
def server_prompt(instruction: str, code: str = "<<<CURSOR>>>\n", language: str = "python") -> str:
    return (
        f"File: demo.py\nLanguage: {language}\n\n```{language}\n{code}```\n\n"
        f"Write the code to insert at <<<CURSOR>>>.\nInstruction: {instruction}"
    )


def run_answer(instruction: str, code: str = "<<<CURSOR>>>\n") -> dict[str, Any]:
    """The emulator's Python answer, still marked as the emulator's, executed."""
    text = codegen.default_answer(body(server_prompt(instruction, code))).text
    assert text.startswith(f"```python\n# {NOTE}\n")
    namespace: dict[str, Any] = {}
    exec(text.removeprefix("```python\n").removesuffix("```"), namespace)
    return namespace


DEMO_PROMPT = (
    "Write a function that returns the n-th Fibonacci number iteratively, with a docstring"
)


def test_the_demo_prompt_gets_an_iterative_fibonacci_with_a_docstring() -> None:
    fibonacci = run_answer(DEMO_PROMPT)["fibonacci"]
    assert [fibonacci(n) for n in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]
    assert fibonacci(10) == 55
    assert "Fibonacci" in fibonacci.__doc__
    text = codegen.default_answer(body(server_prompt(DEMO_PROMPT))).text
    assert "fibonacci(n - 1)" not in text  # iterative, as asked


@pytest.mark.parametrize(
    ("instruction", "name", "calls"),
    [
        ("Write a recursive fibonacci function", "fibonacci", [((10,), 55)]),
        ("implement factorial", "factorial", [((0,), 1), ((5,), 120)]),
        ("a function that checks whether a number is prime", "is_prime", [((97,), True)]),
        ("check if a string is a palindrome", "is_palindrome", [(("Never odd or even",), True)]),
        ("reverse a string", "reverse_string", [(("abc",), "cba")]),
        ("compute the greatest common divisor", "gcd", [((12, 18), 6)]),
        ("return the average of a list of numbers", "average", [(([1, 2, 3, 4],), 2.5)]),
        ("count the words in a text", "count_words", [(("a b A",), {"a": 2, "b": 1})]),
    ],
)
def test_a_function_that_does_x_does_x(
    instruction: str, name: str, calls: list[tuple[tuple[Any, ...], Any]]
) -> None:
    function = run_answer(instruction)[name]
    for arguments, expected in calls:
        assert function(*arguments) == expected


def test_a_class_prompt_gets_a_working_class_named_after_it() -> None:
    stack = run_answer("Create a Stack class")["Stack"]()
    stack.push(1)
    stack.push(2)
    assert (stack.pop(), len(stack)) == (2, 1)
    account = run_answer("Write a class for a bank account")["BankAccount"]("ada")
    account.deposit(10)
    account.withdraw(3)
    assert account.balance == 7
    cart = run_answer("write a class that represents a shopping cart")["ShoppingCart"]()
    cart.add("apple")
    assert cart.items() == ["apple"]


def test_a_test_prompt_gets_a_test_that_passes_against_the_real_function() -> None:
    namespace = run_answer("Write a test for the fibonacci function")
    namespace.update(run_answer(DEMO_PROMPT))
    namespace["test_fibonacci"]()  # passes: the asserted values are right
    generic = codegen.default_answer(body(server_prompt("write unit tests for parse_config"))).text
    assert "def test_parse_config() -> None:" in generic
    assert "parse_config(*arguments)" in generic


def test_a_docstring_prompt_gets_a_docstring_for_that_function() -> None:
    code = "def parse_config(path: str, strict: bool = False) -> dict:\n    <<<CURSOR>>>\n"
    instruction = (
        "Write the docstring for the function parse_config, in this language's own "
        "documentation convention. Reply with only that documentation."
    )
    text = codegen.default_answer(body(server_prompt(instruction, code))).text
    docstring = text.removeprefix("```python\n").removesuffix("```").split("\n", 2)[2]
    assert docstring.startswith('"""Parse config.')
    assert "    path: " in docstring and "    strict: " in docstring
    assert docstring.rstrip().endswith('"""')
    ts = codegen.default_answer(
        body(server_prompt(instruction.replace("parse_config", "parseConfig"), language="ts"))
    ).text
    assert "/**\n * Parse config.\n */\n" in ts


def test_an_unrecognised_prompt_keeps_the_generic_answer() -> None:
    text = codegen.default_answer(body(server_prompt("parse the config file"))).text
    assert "def parse_config_file(items: list[str]) -> list[str]:" in text
