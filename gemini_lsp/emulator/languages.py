"""The languages the default answer is written in: how each is named and recognised, how it
comments, and the code it gives for a function (first and revised)."""

from __future__ import annotations

from collections.abc import Callable

import attrs


@attrs.frozen
class Language:
    id: str  # also the markdown fence tag
    aliases: tuple[str, ...]
    extensions: tuple[str, ...]
    comment: str
    camel_case: bool
    render: Callable[[str, bool], str]  # (function name, revised) -> code


def _python(name: str, revised: bool) -> str:
    if revised:
        return (
            f"def {name}(items: list[str]) -> list[str]:\n"
            '    """Return the non-empty items, in order (revised)."""\n'
            "    if not items:\n"
            "        return []\n"
            "    return [item for item in items if item]\n"
        )
    return (
        f"def {name}(items: list[str]) -> list[str]:\n"
        '    """Return the non-empty items, in order."""\n'
        "    result = []\n"
        "    for item in items:\n"
        "        if item:\n"
        "            result.append(item)\n"
        "    return result\n"
    )


def _javascript(name: str, revised: bool) -> str:
    if revised:
        return (
            f"function {name}(items) {{\n"
            "  if (!items || items.length === 0) {\n"
            "    return [];\n"
            "  }\n"
            "  return items.filter(Boolean);\n"
            "}\n"
        )
    return (
        f"function {name}(items) {{\n"
        "  const result = [];\n"
        "  for (const item of items) {\n"
        "    if (item) {\n"
        "      result.push(item);\n"
        "    }\n"
        "  }\n"
        "  return result;\n"
        "}\n"
    )


def _typescript(name: str, revised: bool) -> str:
    if revised:
        return (
            f"export function {name}(items: readonly string[]): string[] {{\n"
            "  if (items.length === 0) {\n"
            "    return [];\n"
            "  }\n"
            "  return items.filter((item) => item.length > 0);\n"
            "}\n"
        )
    return (
        f"export function {name}(items: string[]): string[] {{\n"
        "  const result: string[] = [];\n"
        "  for (const item of items) {\n"
        "    if (item.length > 0) {\n"
        "      result.push(item);\n"
        "    }\n"
        "  }\n"
        "  return result;\n"
        "}\n"
    )


def _lua(name: str, revised: bool) -> str:
    if revised:
        return (
            f"local function {name}(items)\n"
            "  local result = {}\n"
            "  if items == nil then\n"
            "    return result\n"
            "  end\n"
            "  for i = 1, #items do\n"
            '    if items[i] ~= "" then\n'
            "      result[#result + 1] = items[i]\n"
            "    end\n"
            "  end\n"
            "  return result\n"
            "end\n"
        )
    return (
        f"local function {name}(items)\n"
        "  local result = {}\n"
        "  for _, item in ipairs(items) do\n"
        '    if item ~= "" then\n'
        "      table.insert(result, item)\n"
        "    end\n"
        "  end\n"
        "  return result\n"
        "end\n"
    )


def _go(name: str, revised: bool) -> str:
    if revised:
        return (
            f"func {name}(items []string) []string {{\n"
            "\tif len(items) == 0 {\n"
            "\t\treturn nil\n"
            "\t}\n"
            "\tresult := make([]string, 0, len(items))\n"
            "\tfor _, item := range items {\n"
            '\t\tif item == "" {\n'
            "\t\t\tcontinue\n"
            "\t\t}\n"
            "\t\tresult = append(result, item)\n"
            "\t}\n"
            "\treturn result\n"
            "}\n"
        )
    return (
        f"func {name}(items []string) []string {{\n"
        "\tresult := make([]string, 0, len(items))\n"
        "\tfor _, item := range items {\n"
        '\t\tif item != "" {\n'
        "\t\t\tresult = append(result, item)\n"
        "\t\t}\n"
        "\t}\n"
        "\treturn result\n"
        "}\n"
    )


def _rust(name: str, revised: bool) -> str:
    if revised:
        return (
            f"pub fn {name}(items: &[String]) -> Vec<String> {{\n"
            "    items.iter().filter(|item| !item.is_empty()).cloned().collect()\n"
            "}\n"
        )
    return (
        f"pub fn {name}(items: &[String]) -> Vec<String> {{\n"
        "    let mut result = Vec::new();\n"
        "    for item in items {\n"
        "        if !item.is_empty() {\n"
        "            result.push(item.clone());\n"
        "        }\n"
        "    }\n"
        "    result\n"
        "}\n"
    )


def _c(name: str, revised: bool) -> str:
    guard = "    if (items == NULL || out == NULL) {\n        return 0;\n    }\n" if revised else ""
    return (
        f"size_t {name}(const char **items, size_t count, const char **out)\n"
        "{\n"
        f"{guard}"
        "    size_t kept = 0;\n"
        "    for (size_t i = 0; i < count; i++) {\n"
        "        if (items[i] != NULL && items[i][0] != '\\0') {\n"
        "            out[kept++] = items[i];\n"
        "        }\n"
        "    }\n"
        "    return kept;\n"
        "}\n"
    )


def _cpp(name: str, revised: bool) -> str:
    if revised:
        return (
            f"std::vector<std::string> {name}(const std::vector<std::string>& items) {{\n"
            "    std::vector<std::string> result;\n"
            "    result.reserve(items.size());\n"
            "    std::copy_if(items.begin(), items.end(), std::back_inserter(result),\n"
            "                 [](const std::string& item) { return !item.empty(); });\n"
            "    return result;\n"
            "}\n"
        )
    return (
        f"std::vector<std::string> {name}(const std::vector<std::string>& items) {{\n"
        "    std::vector<std::string> result;\n"
        "    for (const auto& item : items) {\n"
        "        if (!item.empty()) {\n"
        "            result.push_back(item);\n"
        "        }\n"
        "    }\n"
        "    return result;\n"
        "}\n"
    )


def _java(name: str, revised: bool) -> str:
    if revised:
        return (
            f"public static List<String> {name}(List<String> items) {{\n"
            "    if (items == null) {\n"
            "        return List.of();\n"
            "    }\n"
            "    return items.stream().filter(item -> item != null && !item.isEmpty()).toList();\n"
            "}\n"
        )
    return (
        f"public static List<String> {name}(List<String> items) {{\n"
        "    List<String> result = new ArrayList<>();\n"
        "    for (String item : items) {\n"
        "        if (item != null && !item.isEmpty()) {\n"
        "            result.add(item);\n"
        "        }\n"
        "    }\n"
        "    return result;\n"
        "}\n"
    )


def _ruby(name: str, revised: bool) -> str:
    if revised:
        return (
            f"def {name}(items)\n"
            "  return [] if items.nil?\n"
            "\n"
            "  items.reject { |item| item.nil? || item.empty? }\n"
            "end\n"
        )
    return (
        f"def {name}(items)\n"
        "  result = []\n"
        "  items.each do |item|\n"
        "    result << item unless item.nil? || item.empty?\n"
        "  end\n"
        "  result\n"
        "end\n"
    )


def _shell(name: str, revised: bool) -> str:
    if revised:
        return (
            f"{name}() {{\n"
            '  if [ "$#" -eq 0 ]; then\n'
            "    return 0\n"
            "  fi\n"
            "  local item\n"
            '  for item in "$@"; do\n'
            '    [ -n "$item" ] && printf \'%s\\n\' "$item"\n'
            "  done\n"
            "  return 0\n"
            "}\n"
        )
    return (
        f"{name}() {{\n"
        "  local item\n"
        '  for item in "$@"; do\n'
        '    if [ -n "$item" ]; then\n'
        "      printf '%s\\n' \"$item\"\n"
        "    fi\n"
        "  done\n"
        "}\n"
    )


def _sql(name: str, revised: bool) -> str:
    if revised:
        return (
            f"CREATE OR REPLACE VIEW {name} AS\n"
            "SELECT id, TRIM(name) AS name\n"
            "FROM items\n"
            "WHERE COALESCE(TRIM(name), '') <> ''\n"
            "ORDER BY id;\n"
        )
    return (
        f"CREATE VIEW {name} AS\n"
        "SELECT id, name\n"
        "FROM items\n"
        "WHERE name IS NOT NULL\n"
        "  AND name <> '';\n"
    )


def _pseudocode(name: str, revised: bool) -> str:
    if revised:
        return (
            f"function {name}(items):\n"
            "    if items is empty:\n"
            "        return an empty list\n"
            "    return the items that are not empty, in order\n"
        )
    return (
        f"function {name}(items):\n"
        "    result = an empty list\n"
        "    for each item in items:\n"
        "        if item is not empty:\n"
        "            append item to result\n"
        "    return result\n"
    )


LANGUAGES = (
    Language("python", ("py", "python3"), ("py", "pyi", "pyw"), "#", False, _python),
    Language(
        "javascript",
        ("js", "javascriptreact", "jsx", "node"),
        ("js", "mjs", "cjs", "jsx"),
        "//",
        True,
        _javascript,
    ),
    Language(
        "typescript",
        ("ts", "typescriptreact", "tsx"),
        ("ts", "mts", "cts", "tsx"),
        "//",
        True,
        _typescript,
    ),
    Language("lua", ("luau",), ("lua",), "--", False, _lua),
    Language("go", ("golang",), ("go",), "//", True, _go),
    Language("rust", ("rs",), ("rs",), "//", False, _rust),
    Language("c", ("ansi-c",), ("c", "h"), "//", False, _c),
    Language(
        "cpp",
        ("c++", "cxx", "cuda-cpp", "objective-cpp"),
        ("cc", "cpp", "cxx", "hpp", "hh", "hxx"),
        "//",
        False,
        _cpp,
    ),
    Language("java", (), ("java",), "//", True, _java),
    Language("ruby", ("rb",), ("rb", "rake", "gemspec"), "#", False, _ruby),
    Language(
        "bash",
        ("shell", "shellscript", "sh", "zsh", "ksh"),
        ("sh", "bash", "zsh"),
        "#",
        False,
        _shell,
    ),
    Language(
        "sql",
        ("mysql", "postgres", "postgresql", "sqlite", "plsql", "tsql"),
        ("sql",),
        "--",
        False,
        _sql,
    ),
)
GENERIC = Language("", (), (), "#", False, _pseudocode)
