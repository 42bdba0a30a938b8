"""Tests for the pure parts of bench/run.py: ratios, summaries, pass/fail logic, the table.

The full benchmark is never run here (it takes minutes); only the logic that
turns figures into PASS/FAIL lines, and the small helpers that touch a real
SQLite file or a real process.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from appliance.server import Server
from bench.run import (
    TARGETS,
    Check,
    Targets,
    VisitorPool,
    cheroot_settings,
    closed_loop_checks,
    count_events,
    format_table,
    parse_only,
    ratio,
    stop_process,
    stored_check,
    summarize_ms,
)


def cell(rps: float, p99: float, max_ms: float = 10.0, errors: int = 0, **extra) -> dict:
    return {"rps": rps, "p99_ms": p99, "max_ms": max_ms, "errors": errors, **extra}


def by_name(checks: list[Check]) -> dict[str, bool]:
    return {c.name: c.passed for c in checks}


def test_ratio_handles_missing_and_zero():
    assert ratio(800, 1000) == pytest.approx(0.8)
    assert ratio(3.0, 2.0) == pytest.approx(1.5)
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert ratio(1.0, 0) is None


def test_summarize_median_and_nearest_rank_p90():
    values = [float(v) for v in range(1, 11)]  # 1..10
    s = summarize_ms(reversed(values))
    assert s["n"] == 10
    assert s["median"] == pytest.approx(5.5)
    assert s["p90"] == 9.0  # nearest rank: the 9th of 10
    assert (s["min"], s["max"]) == (1.0, 10.0)
    assert summarize_ms([7.0])["p90"] == 7.0
    with pytest.raises(ValueError):
        summarize_ms([])


def test_closed_loop_all_targets_met():
    checks = closed_loop_checks("c", cell(900, 30), cell(1000, 25))
    assert all(c.passed for c in checks), [c.line() for c in checks]
    assert len(checks) == 5


def test_closed_loop_throughput_boundary_is_inclusive():
    assert by_name(closed_loop_checks("c", cell(800, 10), cell(1000, 10)))["throughput >= 80% of baseline"]
    assert not by_name(closed_loop_checks("c", cell(799, 10), cell(1000, 10)))[
        "throughput >= 80% of baseline"
    ]


def test_closed_loop_p99_relative_and_absolute_limits():
    relative = by_name(closed_loop_checks("c", cell(1000, 31), cell(1000, 20)))
    assert not relative["p99 <= 1.5x baseline"] and relative["p99 <= 250 ms"]
    absolute = by_name(closed_loop_checks("c", cell(1000, 260), cell(1000, 200)))
    assert absolute["p99 <= 1.5x baseline"] and not absolute["p99 <= 250 ms"]


def test_closed_loop_slow_request_and_errors_fail():
    checks = by_name(closed_loop_checks("c", cell(1000, 10, max_ms=1000.1, errors=3), cell(1000, 10)))
    assert not checks["no request over 1000 ms"]
    assert not checks["zero errors"]


def test_closed_loop_a_zero_baseline_cannot_pass():
    checks = by_name(closed_loop_checks("c", cell(1000, 10), cell(0, 0)))
    assert not checks["throughput >= 80% of baseline"]
    assert not checks["p99 <= 1.5x baseline"]


def test_custom_targets_are_used():
    lenient = Targets(throughput_ratio_min=0.3, p99_ratio_max=3.0)
    assert all(c.passed for c in closed_loop_checks("c", cell(310, 29), cell(1000, 10), lenient))
    assert not all(c.passed for c in closed_loop_checks("c", cell(310, 29), cell(1000, 10)))


def test_stored_check_lost_and_in_flight():
    assert stored_check(100, 100, 0)["ok"]
    in_flight = stored_check(100, 110, 10)
    assert in_flight["ok"] and in_flight["unacknowledged"] == 10 and in_flight["lost"] == 0
    assert not stored_check(100, 111, 10)["ok"]
    lost = stored_check(100, 99, 50)
    assert not lost["ok"] and lost["lost"] == 1


def test_stored_figures_become_a_check():
    ours = cell(1000, 10, stored=stored_check(500, 498, 10))
    checks = closed_loop_checks("c", ours, cell(1000, 10))
    assert by_name(checks)["every acknowledged event stored"] is False
    assert "lost 2" in checks[-1].line()


def test_check_line():
    assert Check("a", "n", True, "d").line() == "PASS  a: n (d)"
    assert Check("a", "n", False, "d").line().startswith("FAIL  ")


def test_format_table_aligns_numbers_right_and_text_left():
    text = format_table(["name", "req/s", "ratio"], [["ours", 812.345, 0.81234], ["baseline", 1003.0, None]])
    lines = text.splitlines()
    assert lines[0].startswith("name    ")
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["ours", "812.3", "0.81"]
    assert lines[3].split() == ["baseline", "1003", "-"]
    # every line has the same width up to trailing spaces of the last column
    assert len({len(line.rstrip()) for line in lines[1:]}) <= 2


def test_cheroot_settings_follow_the_server_defaults():
    settings = cheroot_settings()
    server = Server(lambda environ, start: [], "127.0.0.1", 0)
    assert settings == {"threads": server.threads, "request_queue_size": server.request_queue_size}


def test_targets_match_the_issue():
    assert TARGETS.throughput_ratio_min == 0.8 and TARGETS.p99_ratio_max == 1.5
    assert TARGETS.p99_max_ms == 250 and TARGETS.request_max_ms == 1000
    assert TARGETS.open_loop_rate == 500 and TARGETS.open_loop_p99_ms == 50
    assert TARGETS.idle_rss_max == 80_000_000 and TARGETS.load_rss_max == 120_000_000
    assert TARGETS.start_max_s == 1.5 and TARGETS.login_max_ms == 300


def test_parse_only():
    assert parse_only(None) == ["footprint", "ingestion", "login"]
    assert parse_only("login, footprint") == ["footprint", "login"]
    with pytest.raises(ValueError):
        parse_only("ingestion,nope")


def test_visitor_pool_rotates_so_runs_do_not_share_visitors(tmp_path):
    pool = VisitorPool(["a", "b", "c", "d"])
    assert pool.rotated()[0] == "user=a; consent=allow"
    pool.advance(3)
    assert [c.split(";")[0] for c in pool.rotated()] == ["user=d", "user=a", "user=b", "user=c"]
    path = pool.write(tmp_path / "cookies.txt")
    assert path.read_text().splitlines()[0] == "user=d; consent=allow"
    pool.advance(2)
    assert pool.cursor == 1


def test_count_events_reads_a_real_sqlite_file(tmp_path):
    path = tmp_path / "e.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE events (event_id TEXT PRIMARY KEY)")
    conn.executemany("INSERT INTO events VALUES (?)", [(str(i),) for i in range(7)])
    conn.commit()
    assert count_events(path) == 7
    conn.close()


def test_stop_process_ends_a_real_child():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    stop_process(child, timeout=5)
    assert child.poll() is not None
