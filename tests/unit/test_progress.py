from __future__ import annotations

import asyncio

from lsprotocol import types

from gemini_lsp.lsp.progress import Progress

Sent = list[tuple[str, object]]


def kinds(sent: Sent) -> list[str]:
    values = [params.value for _, params in sent]  # type: ignore[attr-defined]
    return [getattr(value, "kind", "?") for value in values]


class Client:
    """Answers the creation of a token when told to."""

    def __init__(self) -> None:
        self.sent: Sent = []
        self.created: list[types.ProgressToken] = []
        self.answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def notify(self, method: str, params: object) -> None:
        self.sent.append((method, params))

    async def create(self, params: types.WorkDoneProgressCreateParams) -> None:
        self.created.append(params.token)
        await self.answer


def progress(client: Client, token: types.ProgressToken | None = None) -> Progress:
    clock = iter(float(n) for n in range(1000))  # reports are never too close together
    return Progress(client.notify, client.create, token, lambda: next(clock))


async def test_the_generation_does_not_wait_for_the_token() -> None:
    client = Client()
    p = progress(client)
    p.begin("Gemini", "waiting")
    p.report("1 line")
    p.report("2 lines")
    await asyncio.sleep(0)
    assert client.created == [p.token]
    assert client.sent == []  # nothing goes out on a token the client has not accepted
    client.answer.set_result(None)
    await p.delivered()
    assert kinds(client.sent) == ["begin", "report"]
    assert client.sent[1][1].value.message == "2 lines"  # type: ignore[attr-defined]
    p.end("done")
    assert kinds(client.sent) == ["begin", "report", "end"]
    assert all(params.token == p.token for _, params in client.sent)  # type: ignore[attr-defined]


async def test_an_end_before_the_answer_follows_the_begin() -> None:
    client = Client()
    p = progress(client)
    p.begin("Gemini", "waiting")
    p.end("Failed: no key")
    p.report("too late")
    delivered = asyncio.ensure_future(p.delivered())
    await asyncio.sleep(0.01)
    assert not delivered.done()  # the answer to the request waits for the progress
    client.answer.set_result(None)
    await delivered
    assert kinds(client.sent) == ["begin", "end"]


async def test_a_refused_token_sends_nothing_and_is_forgotten() -> None:
    client = Client()
    p = progress(client)
    p.begin("Gemini", "waiting")
    client.answer.set_exception(RuntimeError("no progress here"))
    await p.delivered()
    p.report("1 line")
    p.end("done")
    assert client.sent == []
    assert p.token is None  # a cancel on it cannot match


async def test_the_clients_own_token_is_used_at_once() -> None:
    client = Client()
    p = progress(client, token="client-token")
    p.begin("Gemini", "waiting")
    p.end("done")
    p.report("after the end")
    assert client.created == []
    assert kinds(client.sent) == ["begin", "end"]
