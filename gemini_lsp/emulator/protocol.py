"""The Gemini API's wire shapes: routes, response JSON, SSE events, error bodies.

Field names and formats follow what google-genai parses (models.py
`_GenerateContentResponse_from_mldev`) and what generativelanguage.googleapis.com
sends: camelCase JSON, `data: {json}\\r\\n\\r\\n` events, google.rpc.Status errors.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

API_VERSIONS = ("v1", "v1beta", "v1alpha", "v1beta1")  # v1beta1: Vertex AI
STREAM_ACTION = "streamGenerateContent"
UNARY_ACTION = "generateContent"
GENERATE_ACTIONS = (STREAM_ACTION, UNARY_ACTION)

GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, head to: "
        "https://ai.google.dev/gemini-api/docs/rate-limits. (gemini-lsp emulator)"
    ),
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting (gemini-lsp emulator)"
    ),
    503: "The model is overloaded. Please try again later. (gemini-lsp emulator)",
    504: "Deadline expired before operation could complete.",
}

API_KEY_INVALID_MESSAGE = "API key not valid. Please pass a valid API key."
ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"

SSE_HEADERS = [
    ("Content-Type", "text/event-stream"),
    ("Content-Disposition", "attachment"),
    ("Vary", "Origin, X-Origin, Referer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Server", "gemini-lsp-emulator"),
]
JSON_HEADERS = [
    ("Content-Type", "application/json; charset=UTF-8"),
    ("Vary", "Origin, X-Origin, Referer"),
    ("X-Content-Type-Options", "nosniff"),
    ("Server", "gemini-lsp-emulator"),
]

# Gemini API paths, and Vertex AI's (`/v1beta1/[projects/P/locations/L/]publishers/google/…`).
_ROUTE = re.compile(
    r"/(?P<version>[^/]+)(?:/projects/[^/]+/locations/[^/]+)?(?:/publishers/google)?"
    r"/models/(?P<model>[^:]+):(?P<action>[A-Za-z]+)"
)


@attrs.frozen
class Route:
    version: str
    model: str
    action: str


def parse_route(path: str) -> Route | None:
    """`/v1beta/models/gemini-x:streamGenerateContent` -> Route, else None.

    A model written as a resource name (`models/gemini-x`) is accepted too, and so are
    Vertex AI's publisher paths.
    """
    match = _ROUTE.fullmatch(path)
    if match is None:
        return None
    model = match["model"]
    while model.startswith("models/"):
        model = model[len("models/") :]
    return Route(match["version"], model, match["action"])


def format_duration(seconds: float) -> str:
    """google.protobuf.Duration in JSON: "2s", "0.500s" (0, 3, 6 or 9 fractional digits)."""
    if seconds < 0:
        raise ValueError("a retry delay cannot be negative")
    nanos = round(seconds * 1_000_000_000)
    whole, frac = divmod(nanos, 1_000_000_000)
    if frac == 0:
        return f"{whole}s"
    for digits, unit in ((3, 1_000_000), (6, 1_000)):
        if frac % unit == 0:
            return f"{whole}.{frac // unit:0{digits}d}s"
    return f"{whole}.{frac:09d}s"


def error_body(
    code: int,
    message: str | None = None,
    status: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A google.rpc.Status error body as the Gemini API sends it."""
    error: dict[str, Any] = {
        "code": code,
        "message": message if message is not None else DEFAULT_MESSAGES.get(code, "Error."),
        "status": status if status is not None else GOOGLE_STATUS.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return {"error": error}


def api_key_invalid_body() -> dict[str, Any]:
    return error_body(
        400,
        API_KEY_INVALID_MESSAGE,
        "INVALID_ARGUMENT",
        [
            {
                "@type": ERROR_INFO_TYPE,
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        ],
    )


def model_not_found_body(route: Route) -> dict[str, Any]:
    return error_body(
        404,
        f"models/{route.model} is not found for API version {route.version}, or is not "
        f"supported for {route.action}. Call ListModels to see the list of available "
        "models and their supported methods.",
        "NOT_FOUND",
    )


def usage_metadata(prompt_tokens: int, output_tokens: int, total_tokens: int) -> dict[str, Any]:
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": output_tokens,
        "totalTokenCount": total_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }


def response_json(
    text: str | None,
    *,
    finish_reason: str | None,
    usage: dict[str, Any] | None,
    model_version: str,
    response_id: str,
) -> dict[str, Any]:
    """One GenerateContentResponse: a stream event, or the whole unary answer.

    `text=None` leaves the candidate without content, as the API does for an
    answer that ends without text (e.g. finishReason SAFETY).
    """
    candidate: dict[str, Any] = {}
    if text is not None:
        candidate["content"] = {"parts": [{"text": text}], "role": "model"}
    if finish_reason is not None:
        candidate["finishReason"] = finish_reason
    candidate["index"] = 0
    response: dict[str, Any] = {"candidates": [candidate]}
    if usage is not None:
        response["usageMetadata"] = usage
    response["modelVersion"] = model_version
    response["responseId"] = response_id
    return response


def compact_json(payload: Any) -> bytes:
    """One event's JSON, on one line.

    Non-ASCII stays unescaped like the real API's: U+2028 and friends may then
    appear raw inside strings, and the client's SSE line splitting must cope.
    """
    return json.dumps(payload, ensure_ascii=False, separators=(",", ": ")).encode("utf-8")


def json_bytes(payload: Any) -> bytes:
    """A unary JSON body, pretty-printed like Google's front end does."""
    return json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def text_of_parts(content: Any) -> str:
    """The text parts of a Content dict, joined; anything unexpected is skipped."""
    if not isinstance(content, dict):
        return ""
    parts = content.get("parts")
    if not isinstance(parts, list):
        return ""
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(texts)


def count_non_text_parts(content: Any) -> int:
    if not isinstance(content, dict) or not isinstance(content.get("parts"), list):
        return 0
    return sum(1 for p in content["parts"] if isinstance(p, dict) and "text" not in p)
