"""A report kernel's client is ready when the kernel has answered (`perfeval.report.notebook._ready_client`).

papermill makes a new client for every notebook it runs on a kept kernel. jupyter_client's `wait_for_ready`
drained IOPub until it had been quiet for 0.2 s, so every report of a batch waited 0.2 s with neither process
working. The client a report kernel hands out stops draining at the kernel's idle status for its own
kernel-info request; these tests set the quiet bound to 30 s, so a client that still waited for quiet would
take 30 s, and check that nothing the kernel publishes afterwards is lost.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from perfeval.report import notebook
from perfeval.report.notebook import Kernel, _is_idle_after


@pytest.fixture(scope="module")
def kernel():
    with Kernel("python3") as running:
        yield running


async def _ready_then_print(client, text: str) -> tuple[float, list[str]]:
    """Seconds `wait_for_ready` took, then what the kernel printed for one execute request."""
    client.start_channels()
    try:
        start = time.monotonic()
        await client.wait_for_ready(timeout=60)
        waited = time.monotonic() - start
        request = client.execute(f"print({text!r})")
        printed = []
        while True:
            msg = await client.iopub_channel.get_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != request:
                continue
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            if _is_idle_after(msg, request):
                return waited, printed
    finally:
        client.stop_channels()


def test_ready_at_the_kernels_answer_not_after_quiet(kernel, monkeypatch):
    monkeypatch.setattr(notebook, "IOPUB_SETTLE_S", 30.0)
    for i in range(3):  # a new client per notebook, as papermill makes them
        client = kernel.km.client()
        assert type(client).__name__ == "ReadyClient"
        waited, printed = asyncio.run(_ready_then_print(client, f"第{i}次"))
        assert waited < 15, f"wait_for_ready waited for quiet ({waited:.1f} s)"
        assert "".join(printed) == f"第{i}次\n"
    kernel.close_clients()


def test_idle_is_the_one_for_the_request():
    idle = {"msg_type": "status", "content": {"execution_state": "idle"}, "parent_header": {"msg_id": "a"}}
    assert _is_idle_after(idle, "a")
    assert not _is_idle_after(idle, "b")  # an earlier request's idle: its own may still come
    busy = {**idle, "content": {"execution_state": "busy"}}
    assert not _is_idle_after(busy, "a")
    stream = {"msg_type": "stream", "content": {"text": "x"}, "parent_header": {"msg_id": "a"}}
    assert not _is_idle_after(stream, "a")
    assert not _is_idle_after({}, "a")
