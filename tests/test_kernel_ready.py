"""A report kernel's client is ready when the kernel has answered (`perfeval.report.notebook._ready_client`).

papermill makes a new client for every notebook it runs on a kept kernel. jupyter_client's `wait_for_ready`
drained IOPub until it had been quiet for 0.2 s, so every report of a batch waited 0.2 s with neither process
working. The client a report kernel hands out is ready at the kernel's IOPub idle status for its own kernel-info
request, and asks again when that status was published before its subscription reached the kernel.
"""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest

from perfeval.report import notebook
from perfeval.report.notebook import Kernel, _is_idle_after, _ready_client


def _status(state: str, parent: str) -> dict:
    return {"msg_type": "status", "content": {"execution_state": state},
            "parent_header": {"msg_id": parent, "msg_type": "kernel_info_request"}}


WELCOME = {"msg_type": "iopub_welcome", "content": {}, "parent_header": {}}


class _Channel:
    """A channel whose messages come from `feed(request_number)`; `waits` counts gets that found nothing."""

    def __init__(self) -> None:
        self.queue: list[dict] = []
        self.waits = 0

    async def get_msg(self, timeout=None):
        if not self.queue:
            self.waits += 1
            raise Empty
        return self.queue.pop(0)


class _Scripted:
    """The kernel side of `wait_for_ready`: for the n-th kernel-info request (from 1), the shell reply and the
    IOPub messages `iopub(n, request_id)` returns."""

    def __init__(self, iopub) -> None:
        self.iopub = iopub
        self.requests: list[str] = []
        self.shell, self.iopub_channel = _Channel(), _Channel()

    def client(self):
        scripted = self

        class Client(_ready_client()):
            @property
            def shell_channel(self):
                return scripted.shell

            @property
            def iopub_channel(self):
                return scripted.iopub_channel

            def kernel_info(self):
                request = f"info-{len(scripted.requests) + 1}"
                scripted.requests.append(request)
                scripted.shell.queue.append({"msg_type": "kernel_info_reply", "content": {},
                                             "parent_header": {"msg_id": request}})
                scripted.iopub_channel.queue.extend(scripted.iopub(len(scripted.requests), request))
                return request

            async def _async_is_alive(self):
                return True

            def _handle_kernel_info_reply(self, msg):
                scripted.handled = msg

        return Client()


def _wait(scripted: _Scripted) -> None:
    asyncio.run(scripted.client().wait_for_ready(timeout=5))


def test_ready_at_its_requests_idle_without_waiting_for_quiet():
    kernel = _Scripted(lambda n, r: [WELCOME, _status("busy", r), _status("idle", r), _status("busy", "later")])
    _wait(kernel)
    assert kernel.requests == ["info-1"]
    assert kernel.iopub_channel.waits == 0  # no get timed out: ready at the idle status
    assert kernel.iopub_channel.queue == [_status("busy", "later")]  # what follows is left for the notebook
    assert kernel.handled["parent_header"]["msg_id"] == "info-1"


def test_asks_again_when_its_status_was_published_before_the_subscription():
    # a kernel's first client under load: the reply comes, the busy/idle went out before IOPub joined, then the
    # kernel's welcome arrives (ipykernel's XPUB)
    kernel = _Scripted(lambda n, r: [WELCOME] if n == 1 else [_status("busy", r), _status("idle", r)])
    _wait(kernel)
    assert kernel.requests == ["info-1", "info-2"]
    assert kernel.iopub_channel.waits == 1
    assert kernel.handled["parent_header"]["msg_id"] == "info-2"


def test_an_earlier_requests_idle_is_not_enough():
    kernel = _Scripted(lambda n, r: [_status("idle", "info-0")] if n == 1 else [_status("idle", r)])
    _wait(kernel)
    assert kernel.requests == ["info-1", "info-2"]


def test_a_kernel_that_never_shows_its_status_is_not_ready(monkeypatch):
    monkeypatch.setattr(notebook, "IOPUB_WAIT_S", 0.0)
    kernel = _Scripted(lambda n, r: [WELCOME])
    with pytest.raises(RuntimeError):
        asyncio.run(kernel.client().wait_for_ready(timeout=0.05))
    assert len(kernel.requests) >= 1


def test_idle_is_the_one_for_the_request():
    idle = _status("idle", "a")
    assert _is_idle_after(idle, "a")
    assert not _is_idle_after(idle, "b")
    assert not _is_idle_after(_status("busy", "a"), "a")
    assert not _is_idle_after({"msg_type": "stream", "content": {"text": "x"}, "parent_header": {"msg_id": "a"}},
                              "a")
    assert not _is_idle_after(WELCOME, "a")
    assert not _is_idle_after({}, "a")


async def _ready_then_print(client, text: str) -> list[str]:
    """What the kernel printed for one execute request sent right after `wait_for_ready`."""
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        request = client.execute(f"print({text!r})")
        printed = []
        while True:
            msg = await client.iopub_channel.get_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != request:
                continue
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            if _is_idle_after(msg, request):
                return printed
    finally:
        client.stop_channels()


def test_a_real_kernels_new_clients_lose_no_output():
    with Kernel("python3") as kernel:
        for i in range(3):  # a new client per notebook, as papermill makes them; the first on a fresh kernel
            client = kernel.km.client()
            assert isinstance(client, _ready_client())
            assert "".join(asyncio.run(_ready_then_print(client, f"第{i}次"))) == f"第{i}次\n"
        kernel.close_clients()
