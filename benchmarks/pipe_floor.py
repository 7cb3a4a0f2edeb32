"""The floor of the per-chunk overhead: one message from another process to the benchmark's
client, through a pipe, read and parsed as the client reads the server's edits.

The SDK's chunks are timed inside the process that reads them; an edit is timed when the
editor (here, the benchmark's client) has read it. The difference holds a write to a pipe,
the wake-up of the reading process and its parsing of the message, which no server in a
process of its own can avoid. A bare Python process measures that here, paced like the
chunks so that the reader wakes from idle each time, as it does for the edits.
"""

from __future__ import annotations

import asyncio
import sys
import time

from testkit.framing import read_message

from .stats import median, ms

# Writes `count` messages of an edit's size, `pace` seconds apart, each stamped with the
# time it was written.
_WRITER = """
import json, sys, time
count, pace = int(sys.argv[1]), float(sys.argv[2])
out = sys.stdout.buffer
for index in range(count):
    time.sleep(pace)
    stamp = time.monotonic()
    body = json.dumps({"jsonrpc": "2.0", "id": index, "method": "workspace/applyEdit",
                       "params": {"stamp": stamp, "text": "x" * 200}}).encode()
    out.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
    out.flush()
"""


async def pipe_floor_ms(count: int, pace_ms: float) -> float:
    """Median, over `count` messages, of the time from written to read and parsed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WRITER,
        str(count),
        str(pace_ms / 1000),
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,
    )
    assert proc.stdout is not None
    delays: list[float] = []
    while (message := await read_message(proc.stdout)) is not None:
        delays.append(ms(time.monotonic() - message["params"]["stamp"]))
    await proc.wait()
    return median(delays)
