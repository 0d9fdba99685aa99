"""What each piece of OpenTelemetry costs a flat record: the pipeline built up one piece at a
time, each variant in its own process, interleaved over shuffled rounds (not in ``run.py``;
the breakdown in ``docs/benchmarks.md``, Round 4).

    python benchmarks/otel_breakdown.py                  # 7 rounds of 20 000 records
    python benchmarks/otel_breakdown.py --rounds 3 --variants off,ids,logs-otlp

Each variant logs the benchmark's record (``configs.py``'s call) in correlation scopes of
``INTERACTION`` records; warm-up, then 5 timed blocks, the best block is the sample. The
OpenTelemetry providers are set here, before ``setup_logging(otel=...)``, which uses them and
configures nothing more. Exporters post to a local receiver (``otlp_discard.py``), which runs
in a process of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import MESSAGE_BRACES, OPERATION, SESSION_ID, USER_ID, last_json_line, start_otlp_endpoint  # noqa: E402
from configs import INTERACTION  # noqa: E402

VARIANTS = {
    "off": "json_format='flat', otel='off' (the base)",
    "span-per-scope": "a TracerProvider without processors, a span around each scope; otel='off', so no ids",
    "ids": "otel='on', one recording span around every block: the ids step and its two fields alone",
    "bound-ids": "otel='off'; two strings shaped like the ids bound on every record: carrying the fields",
    "spans+ids": "span-per-scope and ids together (no processor)",
    "spans+ids+export": "spans+ids with a BatchSpanProcessor and the OTLP/HTTP span exporter",
    "logs-emit": "otel='on', a LoggerProvider without processors, no spans: our sink and the SDK's emit",
    "logs-queue": "logs-emit plus a BatchLogRecordProcessor whose exporter does nothing",
    "logs-encode": "logs-queue with an exporter that encodes each batch to protobuf and drops it",
    "logs-otlp": "logs-queue with the OTLP/HTTP log exporter",
}
TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
TIMES = "\N{MULTIPLICATION SIGN}"


def _providers(variant: str) -> str:
    """Install what ``variant`` needs; return the ``otel`` mode for ``setup_logging``."""
    from opentelemetry import trace
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    class Drop(LogRecordExporter):
        def export(self, batch: Any) -> Any:
            return LogRecordExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 0) -> bool:
            return True

    class EncodeAndDrop(Drop):
        def export(self, batch: Any) -> Any:
            encode_logs(batch).SerializePartialToString()
            return LogRecordExportResult.SUCCESS

    if variant in ("off", "bound-ids"):
        return "off"
    if variant.startswith("logs-"):
        os.environ["OTEL_TRACES_EXPORTER"] = "none"  # no tracer provider from setup_logging
        provider = LoggerProvider()
        exporter = {"logs-queue": Drop, "logs-encode": EncodeAndDrop, "logs-otlp": OTLPLogExporter}.get(variant)
        if exporter is not None:
            provider.add_log_record_processor(BatchLogRecordProcessor(exporter()))
        set_logger_provider(provider)
        return "on"
    os.environ["OTEL_LOGS_EXPORTER"] = "none"  # spans only: no logger provider from setup_logging
    tracer_provider = TracerProvider()
    if variant == "spans+ids+export":
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    return "off" if variant == "span-per-scope" else "on"


def child(variant: str, n: int, warmup: int, blocks: int) -> dict:
    from loguru import logger
    from opentelemetry import trace

    from streamlit_extension import correlation_scope, setup_logging

    otel = _providers(variant)
    folder = Path(tempfile.mkdtemp())
    handle = setup_logging(log_path=str(folder / "app.jsonl"), console=False, intercept_stdlib=False,
                           json_format="flat", otel=otel, rotation=None, retention=None, compression=None)
    tracer = trace.get_tracer("benchmark")
    ids = {"trace_id": TRACE_ID, "span_id": SPAN_ID} if variant == "bound-ids" else {}
    per_scope = variant.startswith("span")
    whole_block = variant == "ids"
    bind = logger.bind

    def drive(count: int, base: int) -> None:
        outer = tracer.start_as_current_span("block") if whole_block else contextlib.nullcontext()
        with outer:
            for scope in range(count // INTERACTION):
                span = tracer.start_as_current_span("script_run") if per_scope else contextlib.nullcontext()
                with correlation_scope(f"req_{base + scope:012x}"), span:
                    for number in range(INTERACTION):
                        bind(client_key=f"CL{number:07d}", session_id=SESSION_ID, user_id=USER_ID,
                             operation=OPERATION, **ids).info(MESSAGE_BRACES, number)

    drive(warmup, 1 << 40)
    times = []
    for block in range(blocks):
        gc.collect()
        started = time.perf_counter()
        drive(n // blocks, block * n)
        times.append((time.perf_counter() - started) / (n // blocks) * 1e6)
    handle.close()
    return {"variant": variant, "us_per_record": min(times), "blocks_us": [round(t, 2) for t in times]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=2000)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.n, args.warmup, args.blocks)))
        os._exit(0)  # the exporters' queues are not the measurement: don't wait for them
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    receiver = start_otlp_endpoint()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOG_")}
    samples: dict[str, list[float]] = {v: [] for v in variants}
    try:
        for number in range(1, args.rounds + 1):
            order = random.sample(variants, len(variants))
            for variant in order:
                done = subprocess.run([sys.executable, __file__, "--child", variant, "--n", str(args.n),
                                       "--warmup", str(args.warmup), "--blocks", str(args.blocks)],
                                      capture_output=True, text=True, env=env, timeout=600)
                if done.returncode != 0:
                    sys.exit(f"{variant} failed:\n{done.stderr[-3000:]}")
                samples[variant].append(last_json_line(done.stdout)["us_per_record"])
            print(f"round {number}/{args.rounds}: {', '.join(order)}", file=sys.stderr, flush=True)
    finally:
        receiver.terminate()
    base = statistics.median(samples[variants[0]])
    print(f"{'variant':<18} {'µs/record':>10} {TIMES + ' ' + variants[0]:>8}  samples")
    for variant in variants:
        median = statistics.median(samples[variant])
        print(f"{variant:<18} {median:>10.2f} {median / base:>8.2f}  {[round(s, 1) for s in samples[variant]]}")
    print(json.dumps({"base": variants[0], "us_per_record": samples, "descriptions": VARIANTS}))


if __name__ == "__main__":
    main()
