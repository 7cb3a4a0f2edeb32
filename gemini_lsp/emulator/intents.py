"""Code that does what a prompt asks, for the prompt shapes people try first.

A small table: a few well-known functions (Fibonacci, factorial, primes, …), a class, a test
and a docstring, in Python (and a doc comment in the other languages). A prompt that matches
none of them gets the generic answer of `codegen`. Deterministic: same prompt, same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs


@attrs.frozen
class Routine:
    """A well-known function: its name, its code, and examples for a generated test."""

    pattern: re.Pattern[str]
    name: str
    code: Callable[[str], str]  # the instruction -> Python code
    examples: tuple[tuple[str, str], ...]  # (arguments, result) as Python source


def _fibonacci(instruction: str) -> str:
    if re.search(r"recursi", instruction, re.I):
        return (
            "def fibonacci(n: int) -> int:\n"
            '    """Return the n-th Fibonacci number (fibonacci(0) == 0, fibonacci(1) == 1),\n'
            '    recursively."""\n'
            "    if n < 0:\n"
            '        raise ValueError("n must be >= 0")\n'
            "    if n < 2:\n"
            "        return n\n"
            "    return fibonacci(n - 1) + fibonacci(n - 2)\n"
        )
    return (
        "def fibonacci(n: int) -> int:\n"
        '    """Return the n-th Fibonacci number (fibonacci(0) == 0, fibonacci(1) == 1),\n'
        '    computed iteratively."""\n'
        "    if n < 0:\n"
        '        raise ValueError("n must be >= 0")\n'
        "    previous, current = 0, 1\n"
        "    for _ in range(n):\n"
        "        previous, current = current, previous + current\n"
        "    return previous\n"
    )


def _fixed(code: str) -> Callable[[str], str]:
    return lambda _instruction: code


ROUTINES = (
    Routine(
        re.compile(r"fibonacci", re.I),
        "fibonacci",
        _fibonacci,
        (("0", "0"), ("1", "1"), ("10", "55")),
    ),
    Routine(
        re.compile(r"factorial", re.I),
        "factorial",
        _fixed(
            "def factorial(n: int) -> int:\n"
            '    """Return n! = 1 * 2 * ... * n (factorial(0) == 1)."""\n'
            "    if n < 0:\n"
            '        raise ValueError("n must be >= 0")\n'
            "    result = 1\n"
            "    for k in range(2, n + 1):\n"
            "        result *= k\n"
            "    return result\n"
        ),
        (("0", "1"), ("5", "120")),
    ),
    Routine(
        re.compile(r"\bprimes?\b|\bprimality\b", re.I),
        "is_prime",
        _fixed(
            "def is_prime(n: int) -> bool:\n"
            '    """Return True when n is a prime number."""\n'
            "    if n < 2:\n"
            "        return False\n"
            "    divisor = 2\n"
            "    while divisor * divisor <= n:\n"
            "        if n % divisor == 0:\n"
            "            return False\n"
            "        divisor += 1\n"
            "    return True\n"
        ),
        (("2", "True"), ("15", "False"), ("97", "True")),
    ),
    Routine(
        re.compile(r"palindrom", re.I),
        "is_palindrome",
        _fixed(
            "def is_palindrome(text: str) -> bool:\n"
            '    """Return True when text reads the same backwards, ignoring case and\n'
            '    anything that is not a letter or a digit."""\n'
            "    letters = [char.lower() for char in text if char.isalnum()]\n"
            "    return letters == letters[::-1]\n"
        ),
        (("'Never odd or even'", "True"), ("'gemini'", "False")),
    ),
    Routine(
        re.compile(r"\brevers\w*\b.*\b(string|text|word)s?\b", re.I),
        "reverse_string",
        _fixed(
            "def reverse_string(text: str) -> str:\n"
            '    """Return text with its characters in reverse order."""\n'
            "    return text[::-1]\n"
        ),
        (("'abc'", "'cba'"), ("''", "''")),
    ),
    Routine(
        re.compile(r"\bgcd\b|greatest common divisor", re.I),
        "gcd",
        _fixed(
            "def gcd(a: int, b: int) -> int:\n"
            '    """Return the greatest common divisor of a and b (Euclid\'s algorithm)."""\n'
            "    a, b = abs(a), abs(b)\n"
            "    while b:\n"
            "        a, b = b, a % b\n"
            "    return a\n"
        ),
        (("12, 18", "6"), ("7, 0", "7")),
    ),
    Routine(
        re.compile(r"\b(average|mean)\b", re.I),
        "average",
        _fixed(
            "def average(numbers: list[float]) -> float:\n"
            '    """Return the arithmetic mean of numbers (which must not be empty)."""\n'
            "    if not numbers:\n"
            '        raise ValueError("the average of no numbers is undefined")\n'
            "    return sum(numbers) / len(numbers)\n"
        ),
        (("[1, 2, 3, 4]", "2.5"),),
    ),
    Routine(
        re.compile(r"\bcount\w*\b.*\bwords?\b|\bword counts?\b", re.I),
        "count_words",
        _fixed(
            "def count_words(text: str) -> dict[str, int]:\n"
            '    """Return how many times each word occurs in text, ignoring case."""\n'
            "    counts: dict[str, int] = {}\n"
            "    for word in text.lower().split():\n"
            "        counts[word] = counts.get(word, 0) + 1\n"
            "    return counts\n"
        ),
        (("'a b a'", "{'a': 2, 'b': 1}"),),
    ),
)

_DOCSTRING = re.compile(
    r"^\s*(?:please\s+)?(?:write|add|generate|create)\s+(?:a|an|the)?\s*"
    r"(?:docstring|documentation|doc comment)|^\s*document\b",
    re.I,
)
_DOCUMENTED = re.compile(r"\bfor the (?:function|class|method) `?([A-Za-z_][\w.]*)", re.I)
_TEST = re.compile(r"\b(?:a|an|the|some|unit|pytest)\s+tests?\b|\btests?\s+(?:for|of)\b", re.I)
_TEST_TARGET = re.compile(
    r"\b(?:for|of)\s+(?:the\s+)?(?:function\s+|method\s+)?`?([A-Za-z_]\w*)`?", re.I
)
_CLASS = re.compile(r"\bclass\b", re.I)
_CLASS_WORDS = re.compile(r"[A-Za-z][a-z0-9]*|[A-Z]+(?![a-z])")
_NOT_NAMES_TEXT = """
    a an the class that which for of to with and write create make implement define
    python new simple small please called named representing represents models model
    holds keeps"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())


def routine_for(instruction: str) -> Routine | None:
    return next((r for r in ROUTINES if r.pattern.search(instruction)), None)


def python_answer(instruction: str, prompt_text: str) -> str | None:
    """Python code for the instruction, or None when no intent matches."""
    if _DOCSTRING.search(instruction):
        return python_docstring(instruction, prompt_text)
    if _TEST.search(instruction):
        return python_test(instruction)
    if _CLASS.search(instruction):
        return python_class(instruction)
    routine = routine_for(instruction)
    return routine.code(instruction) if routine else None


def documented_name(instruction: str) -> str | None:
    match = _DOCUMENTED.search(instruction)
    return match[1] if match else None


def humanize(name: str) -> str:
    """`parse_config_file` / `parseConfigFile` -> "Parse config file"."""
    words = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name.split(".")[-1])
    text = " ".join(word.lower() for word in words) or "this"
    return text[0].upper() + text[1:]


def python_docstring(instruction: str, prompt_text: str) -> str:
    name = documented_name(instruction)
    if name is None:
        return '"""Describe what this code does, its arguments and what it returns."""\n'
    signature = re.search(rf"\bdef\s+{re.escape(name)}\s*\(([^)]*)\)", prompt_text)
    params = []
    if signature is not None:
        for part in signature[1].split(","):
            param = part.split(":")[0].split("=")[0].strip().lstrip("*")
            if param and param not in ("self", "cls", "/"):
                params.append(param)
    lines = [f'"""{humanize(name)}.']
    if params:
        lines += [
            "",
            "Args:",
            *(f"    {param}: the {param.replace('_', ' ')}." for param in params),
        ]
    return "\n".join(lines) + ('\n"""\n' if params else '"""\n')


def python_test(instruction: str) -> str:
    routine = routine_for(instruction)
    if routine is not None:
        asserts = "".join(
            f"    assert {routine.name}({args}) == {result}\n" for args, result in routine.examples
        )
        return f"def test_{routine.name}() -> None:\n{asserts}"
    target = next(
        (m[1] for m in _TEST_TARGET.finditer(instruction) if m[1].lower() not in _NOT_NAMES),
        "function_under_test",
    )
    return (
        f"def test_{target}() -> None:\n"
        f"    # The emulator cannot know what {target} expects: put real inputs and the\n"
        "    # result they should give here.\n"
        "    arguments: tuple[object, ...] = ()\n"
        "    expected: object = None\n"
        f"    assert {target}(*arguments) == expected\n"
    )


def class_name(instruction: str) -> str:
    after = _CLASS.split(instruction, maxsplit=1)
    words: list[str] = [
        w
        for part in (after[1] if len(after) > 1 else "", after[0])
        for w in _CLASS_WORDS.findall(part)
        if w.lower() not in _NOT_NAMES
    ]
    if any(w[0].isupper() and any(c.islower() for c in w) for w in words[:1]):
        return words[0]
    return "".join(w.capitalize() for w in words[:2]) or "Collection"


def python_class(instruction: str) -> str:
    name = class_name(instruction)
    if re.search(r"\bstack\b", instruction, re.I):
        return (
            f"class {name}:\n"
            '    """A last-in, first-out stack."""\n\n'
            "    def __init__(self) -> None:\n"
            "        self._items: list[object] = []\n\n"
            "    def push(self, item: object) -> None:\n"
            "        self._items.append(item)\n\n"
            "    def pop(self) -> object:\n"
            '        """Remove and return the top item; IndexError when empty."""\n'
            "        return self._items.pop()\n\n"
            "    def peek(self) -> object:\n"
            "        return self._items[-1]\n\n"
            "    def __len__(self) -> int:\n"
            "        return len(self._items)\n"
        )
    if re.search(r"\b(bank\s+)?account\b", instruction, re.I):
        return (
            f"class {name}:\n"
            '    """An account with a balance that deposits and withdrawals change."""\n\n'
            "    def __init__(self, owner: str, balance: float = 0.0) -> None:\n"
            "        self.owner = owner\n"
            "        self.balance = balance\n\n"
            "    def deposit(self, amount: float) -> None:\n"
            "        if amount <= 0:\n"
            '            raise ValueError("a deposit must be positive")\n'
            "        self.balance += amount\n\n"
            "    def withdraw(self, amount: float) -> None:\n"
            "        if amount <= 0:\n"
            '            raise ValueError("a withdrawal must be positive")\n'
            "        if amount > self.balance:\n"
            '            raise ValueError("insufficient funds")\n'
            "        self.balance -= amount\n"
        )
    return (
        f"class {name}:\n"
        f'    """{humanize(name)}: keeps its items in the order they were added."""\n\n'
        "    def __init__(self) -> None:\n"
        "        self._items: list[object] = []\n\n"
        "    def add(self, item: object) -> None:\n"
        "        self._items.append(item)\n\n"
        "    def __len__(self) -> int:\n"
        "        return len(self._items)\n\n"
        "    def items(self) -> list[object]:\n"
        "        return list(self._items)\n"
    )


def doc_comment(instruction: str, language_id: str) -> str | None:
    """A documentation comment for the other languages' "document this" prompts."""
    if not _DOCSTRING.search(instruction):
        return None
    name = documented_name(instruction)
    summary = f"{humanize(name)}." if name else "Describe what this code does."
    if language_id in ("javascript", "typescript", "java", "c", "cpp"):
        return f"/**\n * {summary}\n */\n"
    if language_id == "rust":
        return f"/// {summary}\n"
    if language_id == "go":
        return f"// {name or 'This'} {summary[0].lower()}{summary[1:]}\n"
    if language_id == "lua":
        return f"--- {summary}\n"
    if language_id in ("ruby", "bash"):
        return f"# {summary}\n"
    return None
