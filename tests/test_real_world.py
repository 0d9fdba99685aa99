"""Resilience and privacy under real-world use: how apps actually use (and misuse) the library.

Each test is judged on the bytes on disk: every line strict JSON, records emitted against records
read back, and a grep for anything private. Figures are tabulated in docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from loguru import logger

from streamlit_extension import correlation_logger, correlation_scope, setup_logging, with_correlation_logging

from .helpers import read_json_lines


@pytest.fixture
def flat(tmp_path):
    """A flat JSON file sink; returns a function reading its records back (after closing)."""
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)

    def records() -> list[dict]:
        handle.close()
        return read_json_lines(path)

    records.handle = handle
    records.path = path
    return records


# -- 2. an operation open in a generator, ended in another context ------------------------------


def test_generator_closed_from_another_thread_never_raises_and_leaves_nothing_behind(flat, capsys):
    def stream():
        with correlation_logger.track_operation("stream_answer"):
            yield "a"
            yield "b"

    with correlation_scope("req_consumer"):
        gen = stream()
        assert next(gen) == "a"  # the operation is open, in this context
        errors = []

        def close_elsewhere():
            try:
                gen.close()
            except BaseException as exc:  # the bug: ValueError "created in a different Context"
                errors.append(exc)

        worker = threading.Thread(target=close_elsewhere)
        worker.start()
        worker.join()
        logger.info("after the stream")
    records = flat()
    assert errors == []
    assert "different Context" not in capsys.readouterr().err
    after = [r for r in records if r["message"] == "after the stream"]
    assert after[0]["operation"] is None
    assert after[0]["correlation_id"] == "req_consumer"
    ends = [r for r in records if r["operation"] == "stream_answer" and r["event"] in ("complete", "failed")]
    assert [e["event"] for e in ends] == ["complete"]
    assert ends[0]["metadata"] == {"outcome": "closed"}
    start = next(r for r in records if r["operation"] == "stream_answer" and r["event"] == "start")
    # Ended in another thread, the end record still belongs to its interaction and operation.
    assert (ends[0]["correlation_id"], ends[0]["operation_id"]) == ("req_consumer", start["operation_id"])


def test_async_generator_left_with_break_never_raises_into_the_loop(flat):
    async def stream():
        with correlation_logger.track_operation("stream_tokens"):
            for token in ("x", "y", "z"):
                yield token

    loop_errors = []

    async def main():
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: loop_errors.append(context))
        with correlation_scope("req_task"):
            async for token in stream():
                if token == "y":
                    break
            await asyncio.sleep(0)  # the loop finalises the abandoned generator in its own task
            await asyncio.sleep(0)
            logger.info("task goes on")

    asyncio.run(main())
    records = flat()
    assert loop_errors == []
    later = next(r for r in records if r["message"] == "task goes on")
    assert later["operation"] is None
    assert later["correlation_id"] == "req_task"


def test_out_of_order_exits_in_one_context_leave_no_dead_operation(flat):
    def stream():
        with correlation_logger.track_operation("inner_stream"):
            yield 1
            yield 2

    with correlation_scope("req_order"):
        gen = stream()
        next(gen)
        with correlation_logger.track_operation("outer"):
            gen.close()  # the generator's scope ends inside one that began after it
            logger.info("inside outer")
        logger.info("after outer")
    records = flat()
    inside = next(r for r in records if r["message"] == "inside outer")
    after = next(r for r in records if r["message"] == "after outer")
    assert inside["operation"] == "outer"
    assert after["operation"] is None
    assert after["correlation_id"] == "req_order"


# -- 3. the decorator on generator functions ----------------------------------------------------


def test_decorated_generator_spans_the_iteration(flat):
    @with_correlation_logging("stream_rows", lambda n: {"n": n})
    def rows(n):
        for i in range(n):
            logger.info("row {}", i)
            yield i

    with correlation_scope("req_rows"):
        gen = rows(3)
        logger.info("created, not started")
        assert list(gen) == [0, 1, 2]
        logger.info("consumer after")
    records = flat()
    messages = [(r["message"], r["operation"], r["event"]) for r in records]
    assert messages[0] == ("created, not started", None, None)  # nothing at call time
    assert messages[1] == ("stream_rows started", "stream_rows", "start")
    assert [m for m in messages if m[0].startswith("row ")] == [(f"row {i}", "stream_rows", None) for i in range(3)]
    end = next(r for r in records if r["event"] == "complete")
    assert end["operation"] == "stream_rows"
    assert end["metadata"] == {"n": 3}
    assert end["duration_ms"] >= 0
    assert messages[-1] == ("consumer after", None, None)


def test_decorated_generator_failure_and_early_close(flat):
    @with_correlation_logging("explode")
    def explode():
        yield 1
        raise KeyError("mid-stream")

    @with_correlation_logging("endless")
    def endless():
        while True:
            yield 0

    with pytest.raises(KeyError):
        list(explode())
    for i, _ in enumerate(endless()):
        if i == 2:
            break
    records = flat()
    failed = [r for r in records if r["operation"] == "explode" and r["event"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"]["type"] == "KeyError"
    closed = [r for r in records if r["operation"] == "endless" and r["event"] == "complete"]
    assert len(closed) == 1
    assert closed[0]["metadata"] == {"outcome": "closed"}


def test_decorated_async_generator_spans_the_iteration(flat):
    @with_correlation_logging("agen")
    async def agen():
        for i in range(2):
            await asyncio.sleep(0)
            logger.info("item {}", i)
            yield i

    async def main():
        with correlation_scope("req_async"):
            got = [i async for i in agen()]
            logger.info("after async stream")
            return got

    assert asyncio.run(main()) == [0, 1]
    records = flat()
    ops = [(r["message"], r["operation"], r["event"]) for r in records]
    assert ops == [("agen started", "agen", "start"), ("item 0", "agen", None), ("item 1", "agen", None),
                   ("agen completed", "agen", "complete"), ("after async stream", None, None)]
    assert {r["correlation_id"] for r in records} == {"req_async"}


# -- 1. fork after setup -------------------------------------------------------------------------

FORK_SCRIPT = r'''
import json, os, sys, time
from loguru import logger
from streamlit_extension import setup_logging

folder = sys.argv[1]
handle = setup_logging(log_path=os.path.join(folder, "app.jsonl"), json_format="flat", console=False,
                       rotation=16 * 1024, compression="gz", retention=None, per_process=True)
for i in range(300):
    logger.info("parent before {}", i)
children = []
for n in range(3):
    pid = os.fork()
    if pid == 0:
        if n == 0:  # a child that sets up again (gunicorn's post_fork, a page's own call)
            again = setup_logging(log_path=os.path.join(folder, "app.jsonl"), json_format="flat", console=False,
                                  rotation=16 * 1024, compression="gz", retention=None, per_process=True)
            assert again is not handle and again.file_path != handle.file_path, "child got the parent's handle"
        for i in range(300):
            logger.info("child {} record {}", n, i)
        started = time.perf_counter()
        (again if n == 0 else handle).close()
        with open(os.path.join(folder, f"close-{os.getpid()}.txt"), "w") as out:
            out.write(str(time.perf_counter() - started))
        os._exit(0)
    children.append(pid)
for i in range(300):
    logger.info("parent after {}", i)
for pid in children:
    os.waitpid(pid, 0)
handle.close()
print(json.dumps({"parent": os.getpid(), "children": children}))
'''


def test_fork_after_setup_gives_each_child_its_own_file(tmp_path):
    import gzip
    import subprocess
    import sys

    script = tmp_path / "fork.py"
    script.write_text(FORK_SCRIPT)
    logs = tmp_path / "logs"
    done = subprocess.run([sys.executable, str(script), str(logs)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pids = json.loads(done.stdout)
    assert "records were lost" not in done.stderr
    assert "deleted" not in done.stderr
    by_pid: dict[int, list[str]] = {}
    for path in logs.iterdir():
        assert not path.name.endswith(".tmp"), f"partial archive left: {path.name}"
        if path.name.startswith("close-"):
            assert float(path.read_text()) < 2.0, "a child's close() waited on the parent's compressor"
            continue
        if path.name.endswith((".idx", ".manifest")):  # an archive's sidecars, from that process's compressor
            assert path.with_suffix("").exists(), f"a sidecar without its archive: {path.name}"
            continue
        text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
        lines = text.splitlines()
        owners = {int(pid) for pid in (pids["parent"], *pids["children"]) if f"-{pid}." in path.name}
        assert len(owners) == 1, f"{path.name} names no single process"
        by_pid.setdefault(owners.pop(), []).extend(json.loads(line)["message"] for line in lines)
    parent = by_pid[pids["parent"]]
    assert sorted(parent) == sorted([f"parent before {i}" for i in range(300)]
                                    + [f"parent after {i}" for i in range(300)])
    for n, child in enumerate(pids["children"]):
        assert sorted(by_pid[child]) == sorted(f"child {n} record {i}" for i in range(300)), f"child {n}"
    assert sum(len(v) for v in by_pid.values()) == 1500  # nothing lost, nothing twice


# -- 5. external logrotate ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["create", "copytruncate"])
def test_external_logrotate_loses_nothing_and_claims_no_loss(tmp_path, capsys, mode):
    import shutil
    import time

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    for i in range(300):
        logger.info("before rotate {}", i)
    if mode == "create":  # logrotate's default: rename, then create an empty file
        path.rename(tmp_path / "app.jsonl.1")
        path.touch()
    else:  # copytruncate: copy, then truncate the file the app still has open
        shutil.copyfile(path, tmp_path / "app.jsonl.1")
        with open(path, "r+") as live:
            live.truncate(0)
    deadline = time.monotonic() + 1.5  # past the sink's once-a-second check
    i = 0
    while time.monotonic() < deadline or i < 300:
        logger.info("after rotate {}", i)
        i += 1
        time.sleep(0.002)
    handle.close()
    records = read_json_lines(path) + read_json_lines(tmp_path / "app.jsonl.1")
    messages = [r["message"] for r in records]
    assert sorted(messages) == sorted([f"before rotate {n}" for n in range(300)]
                                      + [f"after rotate {n}" for n in range(i)])
    assert not [r for r in records if r.get("event") == "records_lost"]
    assert "lost" not in capsys.readouterr().err


# -- 6. more files than the open-file limit -------------------------------------------------------

MANY_FILES_SCRIPT = r'''
import json, os, resource, sys, threading
from streamlit_extension.logs import ReadStats, read_records

folder = sys.argv[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
most = [0]
stop = threading.Event()

def watch():  # how many descriptors this process holds, sampled while the merge runs
    while not stop.is_set():
        most[0] = max(most[0], len(os.listdir("/proc/self/fd")))
        stop.wait(0.001)

watcher = threading.Thread(target=watch)
watcher.start()
stats = ReadStats()
messages = [r["message"] for r in read_records([folder], stats=stats)]
stop.set()
watcher.join()
print(json.dumps({"records": len(messages), "unique": len(set(messages)), "errors": len(stats.errors),
                  "files": stats.files, "most_fds": most[0], "sorted": messages == sorted(messages)}))
'''


def test_a_folder_with_more_files_than_the_open_file_limit_is_read_whole(tmp_path):
    import gzip
    import subprocess
    import sys

    folder = tmp_path / "logs"
    folder.mkdir()
    for n in range(1200):  # 1,200 rotated files of one app, half of them compressed
        lines = "".join(json.dumps({"timestamp": f"2026-12-01T10:{n // 60:02d}:{n % 60:02d}.{i:03d}Z", "level": "INFO",
                                    "message": f"m{n:04d}-{i:02d}"}) + "\n" for i in range(10))
        name = f"app.host-1.2026-12-01_10-00-00_{n:06d}.jsonl"
        if n % 2:
            (folder / (name + ".gz")).write_bytes(gzip.compress(lines.encode()))
        else:
            (folder / name).write_text(lines)
    script = tmp_path / "read.py"
    script.write_text(MANY_FILES_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(folder)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {**result, "records": 12_000, "unique": 12_000, "errors": 0, "files": 1200, "sorted": True}
    assert result["most_fds"] < 1024 // 4 + 16  # the pool's share of the limit, plus the interpreter's own


# -- 7, 8, 9. record size, huge ints, exceptions that can't be printed ----------------------------


def _lines(path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.split("\n")[:-1]
    for line in lines:
        json.loads(line)  # strict JSON, one record per line
    return lines


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_numbers_lists_and_keys_count_toward_the_record_cap(tmp_path, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False)
    with correlation_scope("req_caps"):
        logger.bind(numbers=list(range(300_000))).info("a long list")
        logger.bind(**{"k" * 2_000_000: 1}).info("a huge key")
        correlation_logger.info("op", "nested", metadata={"grid": [[i] * 100 for i in range(5_000)]})
    handle.close()
    lines = _lines(path)
    assert len(lines) == 3
    assert max(len(line.encode()) for line in lines) < 600 * 1024  # 512 KiB per record, plus the envelope
    assert all("req_caps" in line for line in lines)  # capped, not dropped


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_an_int_beyond_the_digit_limit_is_converted_not_fatal(tmp_path, capsys, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False)
    big = 7 ** 6000  # 5,071 digits: str() and json refuse it (sys.int_info.default_max_str_digits)
    with correlation_scope("req_bigint"):
        logger.bind(big=big, small=12, nested={"big": [big]}).info("huge number")
    handle.close()
    (line,) = _lines(path)
    record = json.loads(line)
    extra = record["record"]["extra"] if json_format == "loguru" else record
    assert extra["correlation_id"] == "req_bigint"
    assert extra["small"] == 12
    assert extra["big"] == hex(big)[:66] + f"…[int of {len(hex(big)) - 2} hex digits]"
    assert extra["nested"] == {"big": [extra["big"]]}
    assert "Logging error" not in capsys.readouterr().err


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_an_exception_whose_str_raises_is_still_logged(tmp_path, capsys, json_format):
    import logging

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True)
    with correlation_scope("req_unprintable"):
        try:
            raise UnprintableError("boom")
        except UnprintableError:
            logger.exception("loguru saw it")
            logging.getLogger("legacy").error("stdlib saw it", exc_info=True)
    handle.close()
    lines = _lines(path)
    assert len(lines) == 2
    assert all("req_unprintable" in line for line in lines)
    assert all("UnprintableError" in line for line in lines)
    err = capsys.readouterr().err
    assert "Logging error" not in err
    assert "no str for you" not in err.split("Traceback")[0]


# -- 12, 13. secrets and e-mails as keys, and in bound id fields ---------------------------------


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_secrets_and_emails_used_as_keys_are_masked(tmp_path, json_format):
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=False)
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJlLXZhbHVl"
    logger.bind(votes={"jane.doe@example.org": 3, token: "seen", "plain": 1}).info("keys")
    logger.bind(**{"mary.major@example.net": 1}).info("a top-level key")
    correlation_logger.info("op", "metadata keys", metadata={"by_user": {"sam@example.com": [1, 2]}})
    handle.close()
    text = path.read_text()
    for secret in ("jane.doe@example.org", "mary.major@example.net", "sam@example.com", token):
        assert secret not in text
    assert '"plain":1' in text.replace(" ", "")
    assert len(_lines(path)) == 3


def test_an_email_bound_as_user_id_becomes_the_same_pseudonym_st_user_gets(tmp_path, monkeypatch):
    from streamlit_extension.integration.identity import user_from_info

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format="flat", console=False)
    logger.bind(user_id="Jane.Doe@Example.org").info("bound user")
    logger.bind(user_id="bob").info("plain user id stays")
    logger.bind(session_id="jane.doe@example.org").info("bound session")
    with correlation_logger.track_operation("invite jane.doe@example.org"):
        pass
    handle.close()
    records = read_json_lines(path)
    assert "jane.doe@example.org" not in path.read_text().lower()
    by_message = {r["message"]: r for r in records}
    expected = user_from_info({"email": "jane.doe@example.org"})  # what st.user with that e-mail gives
    assert by_message["bound user"]["user_id"] == expected
    assert expected.startswith("user_")
    assert by_message["plain user id stays"]["user_id"] == "bob"
    assert by_message["bound session"]["session_id"] == "[REDACTED]"
    ops = {r["operation"] for r in records if r["event"] == "start"}
    assert ops == {"invite [REDACTED]"}



def test_sessions_starting_together_get_one_pseudonym_per_user(tmp_path, monkeypatch):
    """The salt is made on first use: concurrent first users (a server's first sessions) must all
    hash with the one salt that is kept, in this process and in a second one."""
    from streamlit_extension import pseudonyms
    from streamlit_extension.pseudonyms import pseudonymise

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setattr(pseudonyms._salt, "value", None)
    start = threading.Barrier(8)
    results = []

    def first_use():
        start.wait()
        results.append(pseudonymise("ann@example.com"))

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert pseudonymise("ann@example.com") == results[0]
    monkeypatch.setattr(pseudonyms._salt, "value", None)  # as a second process would: read the stored salt
    assert pseudonymise("ann@example.com") == results[0]
    assert [p.name for p in (tmp_path / "state" / "streamlit_extension").iterdir()] == ["user_salt"]

# -- 4. two generations of the package after Streamlit's watcher re-imports it --------------------


def test_two_generations_converge_on_one_installation_and_lose_nothing(tmp_path, monkeypatch):
    import importlib
    import logging
    import sys
    import time

    import streamlit_extension.configure as first

    path = tmp_path / "app.jsonl"
    options = {"log_path": str(path), "json_format": "flat", "console": False}
    handles = {id(first.setup_logging(**options))}
    monkeypatch.delitem(sys.modules, "streamlit_extension.configure")
    second = importlib.import_module("streamlit_extension.configure")
    assert second is not first
    assert second.GENERATION > first.GENERATION

    stop = threading.Event()
    sent = {"loguru": 0, "stdlib": 0}

    def chatter(kind: str) -> None:
        legacy = logging.getLogger("legacy.chatter")
        while not stop.is_set():
            n = sent[kind]
            if kind == "loguru":
                logger.info("loguru {}", n)
            else:
                legacy.warning("stdlib %d", n)
            sent[kind] = n + 1

    threads = [threading.Thread(target=chatter, args=(kind,)) for kind in sent]
    for thread in threads:
        thread.start()
    while min(sent.values()) < 100:  # both are logging before the first swap
        time.sleep(0.001)
    for rerun in range(30):  # old and new module objects both call in, as after a re-import
        handles.add(id((first if rerun % 2 else second).setup_logging(**options)))
        time.sleep(0.005)
    stop.set()
    for thread in threads:
        thread.join()
    final = second.setup_logging(**options)
    final.close()
    messages = [r["message"] for r in read_json_lines(path)]
    assert len(handles) == 2  # the first installation, and the new generation's, once
    assert sorted(messages) == sorted([f"loguru {n}" for n in range(sent["loguru"])]
                                      + [f"stdlib {n}" for n in range(sent["stdlib"])])
    assert sent["loguru"] > 100
    assert sent["stdlib"] > 100


# -- 10. a stdlib record logged while another is being written ------------------------------------

NESTED_SCRIPT = r'''
import json, logging, sys
from streamlit_extension import correlation_scope, setup_logging
from streamlit_extension.stdlib import dropped_nested

class Row:  # an ORM-style object whose repr logs the query it runs
    def __init__(self, n):
        self.n = n
    def __repr__(self):
        logging.getLogger("orm.sql").info("SELECT * FROM rows WHERE id = %d", self.n)
        return f"<Row {self.n}>"

class Loop:  # a repr that logs itself: a true logging loop
    def __repr__(self):
        logging.getLogger("loop").info("again %r", self)
        return "<Loop>"

handle = setup_logging(log_path=sys.argv[1], json_format=sys.argv[2], console=False, per_process=False)
with correlation_scope("req_nested"):
    for n in range(25):
        logging.getLogger("app.save").info("saving %r", Row(n))
logging.getLogger("app").info("looping %r", Loop())
handle.close()
print(json.dumps({"dropped": dropped_nested()}))
'''


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_a_record_logged_while_another_is_written_is_kept(tmp_path, json_format):
    import subprocess
    import sys

    # A subprocess: pytest's own root handlers would format (and so recurse) first.
    path = tmp_path / "app.jsonl"
    script = tmp_path / "nested.py"
    script.write_text(NESTED_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(path), json_format], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    records = [json.loads(line) for line in _lines(path)]
    if json_format == "loguru":
        records = [{"message": r["record"]["message"], "correlation_id": r["record"]["extra"]["correlation_id"],
                    "function": r["record"]["function"]} for r in records]
    saving = [r for r in records if r["message"].startswith("saving <Row")]
    sql = [r for r in records if r["message"].startswith("SELECT")]
    assert len(saving) == 25
    assert len(sql) == 25
    assert all(r["correlation_id"] == "req_nested" for r in saving + sql)
    assert {r["function"] for r in sql} == {"__repr__"}  # the nested record keeps its own origin
    looping = [r for r in records if r["message"].startswith(("again", "looping"))]
    assert [r["message"] for r in looping] == ["looping <Loop>", "again <Loop>"]  # the repeat is the loop
    assert result["dropped"] >= 1
    assert "dropped" in done.stderr


# -- 11. another library takes loguru's patcher slot ----------------------------------------------


@pytest.mark.parametrize("json_format", ["flat", "loguru"])
def test_redaction_survives_a_library_replacing_the_patcher(tmp_path, capsys, json_format):
    import logging

    path = tmp_path / "app.jsonl"
    handle = setup_logging(log_path=str(path), json_format=json_format, console=True)
    logger.configure(patcher=lambda record: record["extra"].update(library="tracing"))  # e.g. an APM library
    with correlation_scope("req_patched"):
        logger.bind(password="hunter2").info("login with password=hunter2 for jane.doe@example.org")
        logging.getLogger("legacy").warning("token %s", "Bearer zQ7xK2mP9vL4nR8t")
    handle.close()
    out = path.read_text() + capsys.readouterr().err
    for secret in ("hunter2", "jane.doe@example.org", "zQ7xK2mP9vL4nR8t"):
        assert secret not in out
    lines = _lines(path)
    assert len(lines) == 2
    assert all("req_patched" in line and "tracing" in line for line in lines)
    assert "loguru's patcher was replaced" in out
    # The next setup_logging() (every Streamlit rerun) puts ours back, chaining theirs.
    again = setup_logging(log_path=str(path), json_format=json_format, console=False)
    logger.info("after setup again")
    again.close()
    assert "tracing" in _lines(path)[-1]
