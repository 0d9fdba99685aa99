"""Zero cross-talk: threads and asyncio tasks, each in its own correlation scope."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging

from .helpers import read_json_lines, run_together

THREADS = 16
PER_THREAD = 200


def test_sixteen_threads_each_in_its_own_scope(tmp_path):
    path = tmp_path / "threads.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    expected: dict[str, str] = {}

    def worker(n: int) -> None:
        with correlation_scope(f"req_thread{n:06d}") as cid:
            expected[cid] = f"worker-{n}"
            for i in range(PER_THREAD):
                if i % 3 == 0:
                    logger.bind(worker=f"worker-{n}").info("loguru {}", i)
                elif i % 3 == 1:
                    logging.getLogger("legacy").info("stdlib %d", i, extra={"worker": f"worker-{n}"})
                else:
                    with correlation_logger.track_operation("step", {"worker": f"worker-{n}"}):
                        pass

    run_together(THREADS, worker)
    handle.close()

    records = read_json_lines(path)
    per_cid = defaultdict(set)
    for r in records:
        per_cid[r["correlation_id"]].add(r.get("worker") or r["metadata"]["worker"])
    assert set(per_cid) == set(expected)
    assert {cid: workers for cid, workers in per_cid.items()} == {cid: {w} for cid, w in expected.items()}
    lifecycle = PER_THREAD // 3  # track_operation writes two records per step
    assert len(records) == THREADS * (PER_THREAD - lifecycle + 2 * lifecycle)


def test_asyncio_tasks_each_in_their_own_scope(tmp_path):
    path = tmp_path / "tasks.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)

    async def task(n: int) -> str:
        with correlation_scope() as cid:
            for i in range(20):
                logger.bind(task=n).info("step {}", i)
                await asyncio.sleep(0)
            return cid

    async def main():
        return await asyncio.gather(*(task(n) for n in range(32)))

    cids = asyncio.run(main())
    handle.close()
    assert len(set(cids)) == 32
    records = [r for r in read_json_lines(path) if r["logger"] != "asyncio"]
    assert len(records) == 32 * 20
    for r in records:
        assert r["correlation_id"] == cids[r["task"]]
