"""The Log Explorer page: filter the app's own JSON logs and see one interaction's operations on
a timeline.

This module renders (widgets, tables, charts); reading the log folders, answering from archive
manifests and caching between runs is ``data``'s, which explains how the page stays responsive,
in bounded memory, on folders of any size. Who may open it is ``access``'s. An app adds the page
with ``streamlit_extension.explorer.explorer_page()``; Streamlit runs ``render_log_explorer_page``
as the page (a callable page: this module is imported once, like any other).
"""

from __future__ import annotations

import dataclasses
import datetime
import inspect
import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd
import streamlit as st

from streamlit_extension.explorer.access import (
    FolderRefused,
    checked_folders,
    default_log_folder,
    explorer_access,
)
from streamlit_extension.explorer.data import (
    CATEGORY_COLUMNS,
    OWN_OPERATION,
    ExplorerView,
    FileRef,
    explorer_view,
    file_cache,
    interaction_records,
    is_missing,
    level_no,
    list_files,
    prefilter_for,
    unreadable_archives,
)
from streamlit_extension.explorer.filters import Filters
from streamlit_extension.explorer.reports import FolderSummary
from streamlit_extension.logs import LogPathError, build_interaction
from streamlit_extension.logs.timeline import Interaction
from streamlit_extension.schema import LEVELS, RUN_OPERATION, is_expected
from streamlit_extension.sinks.manifest import InteractionTally, OperationTally
from streamlit_extension.sinks.sketch import RELATIVE_ERROR
from streamlit_extension.utils.correlation_logging import correlation_logger

if TYPE_CHECKING:
    from streamlit_extension.integration.compat import DeltaGenerator

# Charts span the page: width="stretch" from Streamlit 1.56 (use_container_width is deprecated
# there), use_container_width before.
FULL_WIDTH = ({"width": "stretch"} if "width" in inspect.signature(st.altair_chart).parameters
              else {"use_container_width": True})

TIME_RANGES: dict[str, datetime.timedelta | None] = {
    "All time": None,
    "Last 15 minutes": datetime.timedelta(minutes=15),
    "Last hour": datetime.timedelta(hours=1),
    "Last 24 hours": datetime.timedelta(days=1),
    "Last 7 days": datetime.timedelta(days=7),
    "Custom range": None,
}
LEVEL_NAMES = tuple(LEVELS)  # the minimum level's choices, lowest first
ANY = "(any)"
NONE_SHOWN = "\u2013"  # an en dash, where a record has no such value

# When, how bad, who and which interaction first, then what happened: a 1400 px window shows
# them without scrolling the table sideways (the message is wide and came before them).
TABLE_COLUMNS = ("ts", "level", "user_id", "correlation_id", "message", "operation", "event", "duration_ms", "page",
                 "session_id", "logger", "metadata")
MAX_TABLE_ROWS = 2000
RECENT_INTERACTIONS = 50
MAX_ERRORS_SHOWN = 25

OUTCOME_COLOURS = {"complete": "#2e7d32", "rerun": "#1565c0", "stop": "#757575", "failed": "#c62828",
                   "refused": "#f9a825", "running": "#ef6c00"}

# Widget keys (tests and the screenshot script drive the page through them).
K_FOLDER, K_RANGE, K_FROM, K_TO = "lx_folder", "lx_range", "lx_from", "lx_to"
K_LEVEL, K_USER, K_SESSION, K_CID = "lx_level", "lx_user", "lx_session", "lx_cid"
K_OPERATION, K_TEXT, K_HIDE_OWN, K_SERVER = "lx_operation", "lx_text", "lx_hide_own", "lx_server"
K_INTERACTION, K_HIST_OP = "lx_interaction", "lx_hist_operation"


# -- helpers ------------------------------------------------------------------------------------


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md(value: object) -> str:
    """A value from the logs as literal text inside Streamlit markdown (no links, images, colours)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


# -- the page's sections ------------------------------------------------------------------------


def _filters() -> tuple[Filters, DeltaGenerator] | None:
    """The filter widgets' settings and the slot for the operation filter (filled once the folder
    is read: its operations are the choices); None (after a message) if the custom range is unusable."""
    with st.container(border=True):
        c1, c2, c3 = st.columns(3)
        range_name = c1.selectbox("Time range (UTC)", list(TIME_RANGES), key=K_RANGE)
        min_level = c2.selectbox("Minimum level", LEVEL_NAMES, key=K_LEVEL)
        operation_slot = c3.empty()
        c4, c5, c6 = st.columns(3)
        user = c4.text_input("User id", key=K_USER, placeholder="any user").strip()
        session = c5.text_input("Session id", key=K_SESSION, placeholder="any session").strip()
        cid = c6.text_input("Correlation id", key=K_CID, placeholder="any interaction (req_…)").strip()
        c7, c8 = st.columns([2, 1])
        text = c7.text_input("Message contains", key=K_TEXT).strip()
        hide_own = c8.checkbox("Hide the Log Explorer's own runs", value=True, key=K_HIDE_OWN,
                               help="This page logs into the folder it reads; its runs are left out "
                                    "unless you ask for one by correlation id.")
        server = c8.checkbox("Show web-server lines", value=False, key=K_SERVER,
                             help="The web server's own lines outside any interaction (requests, start, stop).")
        since = until = None
        now = pd.Timestamp.now(tz="UTC")
        if range_name == "Custom range":
            d1, d2 = st.columns(2)
            naive_now = now.tz_localize(None).to_pydatetime()
            start = _datetime_input(d1, "From (UTC)", naive_now - datetime.timedelta(hours=1), K_FROM)
            end = _datetime_input(d2, "To (UTC)", naive_now, K_TO)
            # The inputs have minute precision: "To" includes its whole minute.
            since, until = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC") + pd.Timedelta(minutes=1)
            if since >= until:
                st.info("The range ends before it starts: pick a later “To”.")
                return None
        elif range_name and (span := TIME_RANGES[range_name]) is not None:
            since = now - pd.Timedelta(span)
    # The lowest level shows every record, those with a level unknown to the page too.
    lowest = min_level is None or min_level == LEVEL_NAMES[0]
    settings = Filters(since=since, until=until, min_level=0 if lowest else level_no(min_level),
                       user_id=user, session_id=session, correlation_id=cid, text=text,
                       hide_own=hide_own, server=server)
    return settings, operation_slot


def _datetime_input(column: DeltaGenerator, label: str, value: datetime.datetime, key: str) -> datetime.datetime:
    """``st.datetime_input`` where this Streamlit has it (1.56+), else a date and a time input."""
    if hasattr(st, "datetime_input"):  # not the column: a DeltaGenerator answers any name
        return column.datetime_input(label, value=value, key=key)
    day = column.date_input(label, value=value.date(), key=key + "_date")
    moment = column.time_input(f"{label}, time", value=value.time().replace(second=0, microsecond=0),
                               key=key + "_time", step=60)
    return datetime.datetime.combine(day, moment)


def _report_damage(summary: FolderSummary, folders: list[Path]) -> None:
    if summary.skipped:
        total = sum(summary.skipped.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.skipped.items()))
        files = ", ".join(f"{name} ({n})" for name, n in summary.skipped_by_file.most_common(5))
        st.warning(f"Skipped {total} damaged line(s) the reader could not use ({reasons}), in {md(files)}. "
                   "The other records are shown.")
    for path, reason in summary.errors:
        st.warning(f"Could not read all of {md(Path(path).name)}: {md(reason)}")
    if summary.not_files:
        shown = ", ".join(f"{Path(path).name} ({what})" for path, what in summary.not_files[:5])
        st.warning(f"Left out {len(summary.not_files)} entries named like log files that are not regular files "
                   f"(or lead outside the folder): {md(shown)}")
    archives = unreadable_archives(folders)
    if archives:
        st.warning(f"{len(archives)} compressed file(s) in a format the reader does not open were left out "
                   f"(plain and .gz files are read): {md(', '.join(archives[:5]))}")


def _records_table(view: ExplorerView) -> None:
    st.subheader("Records")
    records = view.records
    if records.empty:
        st.info("No records match these filters.")
        return
    shown = records.iloc[::-1]  # newest first
    if view.complete:
        st.caption(f"{counted(len(shown), 'matching record')}, newest first.")
    elif view.cut_short:
        st.caption(f"The newest {counted(len(shown), 'matching record')} found so far, newest first: older files "
                   "were left for the next run (Refresh reads further back), or narrow the time range.")
    else:
        st.caption(f"The newest {counted(len(shown), 'matching record')} of the {view.in_range:,} in range. "
                   "Narrow the filters to see others.")
    table = shown.loc[:, list(TABLE_COLUMNS)].rename(columns={"ts": "timestamp"})
    for name in CATEGORY_COLUMNS:  # plain strings for the table (categoricals carry every file's values)
        table[name] = table[name].astype(object)
    st.dataframe(
        table,
        hide_index=True,
        column_config={  # widths, so the message isn't cut to a few characters
            "timestamp": st.column_config.DatetimeColumn("timestamp (UTC)", format="YYYY-MM-DD HH:mm:ss.SSS",
                                                         width="medium"),
            "duration_ms": st.column_config.NumberColumn("duration_ms", format="%.3f", width="small"),
            "level": st.column_config.TextColumn("level", width="small"),
            "user_id": st.column_config.TextColumn("user_id", width="small"),
            "correlation_id": st.column_config.TextColumn("correlation_id", width="medium"),
            "message": st.column_config.TextColumn("message", width="large"),
        },
        key="lx_table",
    )


def interaction_label(tally: InteractionTally) -> str:
    """``when · user · operations · failed/refused · id``: one interaction in the picker."""
    ops = [op for op in tally.operations if op != RUN_OPERATION]
    when = tally.first[11:19] if len(tally.first) >= 19 else "?"
    failed = "failed" if tally.failed else "refused" if tally.refused else None
    return " · ".join(filter(None, [
        when, tally.user_id, ", ".join(ops[:3]) + ("…" if len(ops) > 3 else "") if ops else "no operations",
        failed, tally.correlation_id]))


def _interaction_choices(tallies: list[InteractionTally]) -> dict[str, str]:
    """The most recent interactions: correlation id -> label.

    The app's own (from a Streamlit session) come first: a script that logged into the folder
    meanwhile (``examples/basic.py``, a cron job) would otherwise be the default, with no
    session and no page.
    """
    ordered = sorted(tallies, key=lambda t: t.session_id is None)  # stable: newest first within each group
    return {t.correlation_id: interaction_label(t) for t in ordered}


INDENT = "\u2003\u2003"  # em spaces: wide enough to see
LEAD = "\u200b"  # a zero-width, non-space first character, so Vega doesn't trim the indentation away


def span_label(depth: int, operation: str) -> str:
    """``operation`` indented by nesting depth, tree-style."""
    return operation if depth <= 0 else LEAD + INDENT * (depth - 1) + "\u2514\u2500 " + operation


def timeline_chart(interaction: Interaction) -> alt.LayerChart:
    """Gantt bars: one row per operation, indented by depth, in start order, coloured by outcome."""
    # In start order, parents first on a tie: timestamps have millisecond precision, so a parent
    # and its child often start "together", and a span without a start record comes in at its end.
    spans = sorted(interaction.spans, key=lambda s: (s.start_ms, s.depth))
    total = max([s.start_ms + (s.duration_ms or 0) for s in spans] + [interaction.duration_ms or 0, 1.0])
    names = Counter(span_label(s.depth, s.operation) for s in spans)
    seen: Counter[str] = Counter()
    rows = []
    for span in spans:
        label = span_label(span.depth, span.operation)
        seen[label] += 1
        if names[label] > 1:  # two calls of one operation at one depth: two rows
            label += f" #{seen[label]}"
        end = span.start_ms + span.duration_ms if span.duration_ms is not None else total
        error = span.error or {}
        rows.append({
            "row": label, "operation": span.operation, "depth": span.depth,
            "start_ms": round(span.start_ms, 3),
            "end_ms": round(max(end, span.start_ms + total * 0.004), 3),  # a visible sliver at least
            "outcome": span.outcome,
            "duration": f"{span.duration_ms:,.1f} ms" if span.duration_ms is not None else "no end record",
            "error": f"{error.get('type')}: {error.get('message')}" if error else "",
            "operation_id": span.operation_id,
        })
    data = pd.DataFrame(rows)
    # Left-aligned labels start labelPadding pixels left of the axis, so indentation shows.
    label_width = min(max(len(label) for label in data["row"]) * 8 + 12, 360)
    y = alt.Y("row:N", sort=list(data["row"]), title=None,
              axis=alt.Axis(labelAlign="left", labelPadding=label_width, labelLimit=label_width - 8,
                            labelFontSize=13, labelColor="#31333f", ticks=False, domain=False))
    base = alt.Chart(data).encode(y=y)
    bars = base.mark_bar(cornerRadius=3, height=18).encode(
        x=alt.X("start_ms:Q", title="milliseconds since the interaction began",
                scale=alt.Scale(domain=[0, total * 1.15])),  # room for the duration labels
        x2="end_ms:Q",
        color=alt.Color("outcome:N", title=None,
                        legend=alt.Legend(orient="top", direction="horizontal", labelFontSize=12),
                        scale=alt.Scale(domain=list(OUTCOME_COLOURS), range=list(OUTCOME_COLOURS.values()))),
        tooltip=["operation", "outcome", "duration", "start_ms", "depth", "operation_id", "error"],
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color="#31333f").encode(x="end_ms:Q", text="duration:N")
    # Streamlit sizes the chart with autosize "fit": the height includes the axis and legend.
    return (bars + text).properties(height=34 * len(data) + 100)


def _pick_interaction(view: ExplorerView, cid_filter: str) -> str | None:
    """The correlation id to draw: the filter's, else the one picked among the recent; None if there are none."""
    if cid_filter:
        st.caption(f"The interaction of correlation id {md(cid_filter)} (from the filter).")
        return cid_filter
    choices = _interaction_choices(view.interactions)
    if not choices:
        st.info("No interactions among the matching records.")
        return None
    return st.selectbox("Interaction (most recent first)", list(choices), key=K_INTERACTION,
                        format_func=lambda c: choices.get(c, c))


@st.cache_data(max_entries=64, show_spinner=False)
def _interaction(refs: tuple[FileRef, ...], cid: str) -> Interaction:
    """One interaction, read by its id (cached per listing: a rerun that changed nothing reads nothing)."""
    return build_interaction(cid, interaction_records(list(refs), cid))


def _timeline(refs: list[FileRef], view: ExplorerView, cid_filter: str) -> None:
    st.subheader("Interaction timeline")
    cid = _pick_interaction(view, cid_filter)
    if cid is None:
        return
    interaction = _interaction(tuple(refs), cid)
    if not interaction.records:
        st.info(f"No records with correlation id {md(cid)} in this folder.")
        return
    duration = f"{interaction.duration_ms:,.1f} ms" if interaction.duration_ms is not None else NONE_SHOWN
    st.markdown(f"**Outcome** {md(interaction.summary or NONE_SHOWN)} · **Duration** {duration} · "
                f"**User** {md(interaction.user_id or NONE_SHOWN)} · **Page** {md(interaction.page or NONE_SHOWN)} · "
                f"**Records** {len(interaction.records)}")
    st.caption(f"Started {md(interaction.started)} · session {md(interaction.session_id or NONE_SHOWN)} · {md(cid)}")
    if not interaction.spans:
        st.info("This interaction has no tracked operations (no start/complete records) to draw.")
    else:
        st.altair_chart(timeline_chart(interaction), **FULL_WIDTH)
    with st.expander(f"The interaction's {len(interaction.records)} records"):
        st.dataframe(
            pd.DataFrame([{
                "offset_ms": round(interaction.offset_ms(r), 1),
                "level": r.get("level"),
                "message": "\u00a0\u00a0\u00a0\u00a0" * max(interaction.depth_of(r), 0) + (r.get("message") or ""),
                "operation": r.get("operation"), "event": r.get("event"), "duration_ms": r.get("duration_ms"),
                "metadata": json.dumps(r["metadata"], ensure_ascii=False) if r.get("metadata") is not None else None,
            } for r in interaction.records]),
            hide_index=True,
        )


def histogram_bins(durations: pd.Series) -> alt.Bin:
    """40 bins over the durations; with one distinct value (one sample), over a range around it,
    so it is a bar, not the whole axis."""
    low, high = float(durations.min()), float(durations.max())
    if high > low:
        return alt.Bin(maxbins=40)
    pad = max(abs(low) * 0.5, 0.5)
    return alt.Bin(maxbins=40, extent=[max(low - pad, 0.0), high + pad])


def sketch_bars(tally: OperationTally, most: int = 40) -> pd.DataFrame:
    """The sketch's buckets joined into at most ``most`` bars: (low, high, count)."""
    buckets = tally.durations.histogram()
    step = max(1, -(-len(buckets) // most))
    rows = [{"low": group[0][0], "high": group[-1][1], "operations": sum(n for _, _, n in group)}
            for group in (buckets[at:at + step] for at in range(0, len(buckets), step))]
    return pd.DataFrame(rows)


def _histogram(name: str, tally: OperationTally) -> None:
    title = f"{name}: duration (ms)"
    if tally.values is not None:  # every duration was read
        data = pd.DataFrame({"duration_ms": tally.values})
        if data.empty:
            st.info(f"No durations recorded for {md(name)}.")
            return
        chart = alt.Chart(data).mark_bar(color=OUTCOME_COLOURS["complete"]).encode(
            x=alt.X("duration_ms:Q", bin=histogram_bins(data["duration_ms"]), title=title),
            y=alt.Y("count():Q", title="operations"),
            tooltip=[alt.Tooltip("count():Q", title="operations")],
        )
    else:  # from the archives' sketches: their buckets, each within the sketch's error
        chart = alt.Chart(sketch_bars(tally)).mark_bar(color=OUTCOME_COLOURS["complete"]).encode(
            x=alt.X("low:Q", title=title + " ~", scale=alt.Scale(type="log")), x2="high:Q",
            y=alt.Y("operations:Q", title="operations"), tooltip=["low:Q", "high:Q", "operations:Q"],
        )
    st.altair_chart(chart.properties(height=220), **FULL_WIDTH)


def _durations(view: ExplorerView, operation_filter: str | None) -> None:
    st.subheader("Durations per operation")
    tallies = {name: tally for name, tally in sorted(view.operations.items()) if tally.count}
    if not tallies:
        st.info("No completed or failed operations among the matching records.")
        return
    near = "~" if view.approximate else ""
    st.dataframe(
        pd.DataFrame([{"operation": name, "count": t.count, "failed": t.errors,
                       "error rate": f"{t.errors / t.count:.0%}", "refused (expected)": t.expected,
                       f"p50 ms{near}": t.percentile(50), f"p95 ms{near}": t.percentile(95),
                       f"p99 ms{near}": t.percentile(99)}
                      for name, t in tallies.items()]),
        hide_index=True,
        column_config={name: st.column_config.NumberColumn(name, format="%.1f")
                       for name in (f"p50 ms{near}", f"p95 ms{near}", f"p99 ms{near}")},
    )
    if view.approximate:
        st.caption(f"~ Percentiles from the archives' manifests: within {RELATIVE_ERROR:.0%} of the exact value.")
    operations = [name for name, _ in sorted(tallies.items(), key=lambda item: -item[1].count)]
    chosen: str | None
    if operation_filter in operations:
        chosen = operation_filter
    else:
        chosen = st.selectbox("Histogram of", operations, key=K_HIST_OP)
    if chosen is not None:
        _histogram(chosen, tallies[chosen])


def _show_in_timeline(cid: str) -> None:
    st.session_state[K_CID] = cid


def _errors(view: ExplorerView) -> None:
    st.subheader("Errors")
    errors = view.errors
    if errors.empty:
        st.caption("No records with an error among the matching records.")
        return
    shown = errors.iloc[::-1]
    st.caption(_errors_caption(view, shown))
    for index, row in shown.iterrows():
        error = row["error"]
        when = row["ts"].strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if not is_missing(row["ts"]) else "?"
        kind = "refused · " if is_expected(error) else ""
        title = md(f"{when} · {row['level']} · {row['operation'] or NONE_SHOWN} · {kind}"
                   f"{error.get('type') or 'error'}: {(error.get('message') or '')[:100]}")
        with st.expander(title):
            st.caption(md(f"correlation id {row['correlation_id'] or NONE_SHOWN} · "
                          f"session {row['session_id'] or NONE_SHOWN} · "
                          f"user {row['user_id'] or NONE_SHOWN} · page {row['page'] or NONE_SHOWN}"))
            if row["metadata"]:
                st.code(f"metadata: {row['metadata']}", language=None, wrap_lines=True)
            if error.get("traceback"):
                st.code(error["traceback"], language="python")
            elif is_expected(error):
                st.caption("Expected: the operation declares this a user's mistake, so it is logged at WARNING "
                           "without a traceback and counted apart from errors.")
            else:
                st.caption("No traceback was recorded for this error.")
            if not is_missing(row["correlation_id"]):
                st.button("Show this interaction", key=f"lx_show_{index}", on_click=_show_in_timeline,
                          args=(str(row["correlation_id"]),))


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``1 record``, ``2 records``, ``1,234 records``."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _errors_caption(view: ExplorerView, shown: pd.DataFrame) -> str:
    """How many errors and refusals match, apart: a refusal (an expected failure) is not an error,
    as in the durations table's "failed" and "refused (expected)"."""
    errors, refusals = view.error_count, view.refusal_count
    if errors is None or refusals is None:
        refused = int(shown["error"].map(is_expected).sum())
        return (f"The newest {counted(len(shown) - refused, 'error')} and {counted(refused, 'refusal')} "
                "(expected failures) among the matching records.")
    listed = f"; the newest {len(shown):,} are listed" if errors + refusals > len(shown) else ""
    return (f"{counted(errors, 'error')} and {counted(refusals, 'refusal')} (expected failures, not errors) "
            f"among the matching records{listed}.")


def _read_caption(summary: FolderSummary, filters: Filters, folders: list[Path]) -> str:
    prefilter = prefilter_for(filters)
    read = f"{counted(summary.files, 'file')}, {counted(summary.records, 'record')}"
    if prefilter is not None and prefilter[0] == "id":
        read += f" containing {prefilter[1]!r}"
    if summary.from_manifests:
        read += f"; {summary.from_manifests} archive(s) answered from their manifest"
    if summary.skipped_old:
        read += f"; {summary.skipped_old} archive(s) outside the time range not opened"
    if summary.ruled_out:
        read += f"; {summary.ruled_out} archive(s) skipped: their id index rules the id out"
    return f"Read {md(read)} from {md(', '.join(str(folder) for folder in folders))}."


def _view(refs: list[FileRef], filters: Filters) -> ExplorerView:
    return explorer_view(refs, filters, table_rows=MAX_TABLE_ROWS, interactions=RECENT_INTERACTIONS,
                         error_rows=MAX_ERRORS_SHOWN)


def render_log_explorer_page() -> None:
    """The whole page, as one tracked operation; only for the people ``explorer_access`` lets in."""
    access = explorer_access()
    if not access.allowed:  # explorer_page() leaves them out, but an app may list this page for everyone
        st.title("Log Explorer")
        st.error(access.reason)
        correlation_logger.warning(OWN_OPERATION, "Log Explorer refused", metadata={"reason": access.reason})
        return
    with correlation_logger.track_operation(OWN_OPERATION):
        st.title("Log Explorer")
        st.caption("The app's own JSON logs, read back: filter records, follow one interaction's operations "
                   "on a timeline, compare durations and read error tracebacks.")
        top1, top2 = st.columns([5, 1], vertical_alignment="bottom")
        if K_FOLDER not in st.session_state:
            st.session_state[K_FOLDER] = default_log_folder()
        folder = top1.text_input("Log folder", key=K_FOLDER,
                                 help="Plain .jsonl and .jsonl.gz files, rotated ones included. Several "
                                      "folders (one per replica) separated by commas are read as one. "
                                      "The folder of $LOG_FILE, or one listed in $LOG_EXPLORER_FOLDERS.").strip()
        if top2.button("Refresh", help="Read new and changed files (unchanged ones come from the cache), and "
                                       "further back when the records table was cut short."):
            file_cache().refresh()
        chosen_filters = _filters()
        if chosen_filters is None:
            return
        filters, operation_slot = chosen_filters
        if not folder:
            st.info("Type the folder that holds the log files (for example logs).")
            return
        try:
            folders = checked_folders(folder)
        except FolderRefused as refused:
            st.error(md(str(refused)))
            return

        summary = FolderSummary()
        try:
            refs = list_files(folders, summary)
        except LogPathError:
            st.info(f"There is no log folder at {md(folder)} yet. The app creates it with its first record; "
                    "or type another folder above.")
            return
        except OSError as exc:
            st.info(f"The log folder {md(folder)} cannot be read ({md(exc.strerror or exc)}).")
            return
        if not refs:
            _report_damage(summary, folders)
            st.info(f"No log files ({md('*.jsonl, *.jsonl.gz')}) in {md(folder)} yet.")
            return

        view = _view(refs, filters)
        chosen = operation_slot.selectbox("Operation", [ANY, *view.operation_names], key=K_OPERATION)
        if chosen != ANY:
            filters = dataclasses.replace(filters, operation=chosen)
            view = _view(refs, filters)
        view.summary.not_files[:0] = summary.not_files
        _report_damage(view.summary, folders)
        st.caption(_read_caption(view.summary, filters, folders))

        _records_table(view)
        _timeline(refs, view, filters.correlation_id)
        _durations(view, filters.operation)
        _errors(view)
