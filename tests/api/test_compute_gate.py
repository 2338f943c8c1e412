"""Heavy computations: bounded concurrency and queue, waiting as coroutines (not threads)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from territorio.api._planning import ComputeGate
from territorio.api.errors import ServerBusyError


def test_gate_runs_one_queues_one_and_refuses_the_rest_at_once() -> None:
    release = threading.Event()
    running: list[int] = []

    def work(*, n: int) -> int:
        running.append(n)
        release.wait(10)
        return n

    async def scenario() -> list[object]:
        gate = ComputeGate(concurrency=1, queue=1)
        first = asyncio.create_task(gate.run(work, n=1))
        second = asyncio.create_task(gate.run(work, n=2))
        await asyncio.sleep(0.2)
        assert gate.admitted == 2
        assert running == [1]  # the second waits on the event loop, in no thread
        with pytest.raises(ServerBusyError) as busy:
            await gate.run(work, n=3)  # refused at once, not after a timeout
        assert busy.value.retry_after > 0
        release.set()
        done = await asyncio.gather(first, second)
        assert gate.admitted == 0
        return list(done)

    assert asyncio.run(scenario()) == [1, 2]
    assert running == [1, 2]
