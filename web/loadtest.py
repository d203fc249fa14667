"""Load measured through the real HTTP stack, for ``orientia bench``.

A real ``orientia serve`` process on 127.0.0.1 (rate limit off) answers ``POST /api/ask`` from
1, 10 and 50 concurrent httpx clients; each level asks every question once, with the server's
query cache emptied between levels (``/healthz`` is polled meanwhile to see whether health
checks wait behind answers). Figures are from one machine, shared and noisy: compare levels of
the same run, not runs.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

__all__ = ["run_load", "format_load"]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(data_dir: Path, extra_env: dict[str, str]):
    import httpx

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORIENTIA_")}
    env.update(
        ORIENTIA_DATA_DIR=str(data_dir), ORIENTIA_RATE_LIMIT="off", ORIENTIA_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", **extra_env,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "web", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                output = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"the server exited: {output.decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server was not ready after 300 s")
            time.sleep(0.3)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of ``pid`` and of its child processes (the workers), summed."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _peak_rss_mb(int(child))
    except OSError:
        pass
    return total


def start_chroma(folder: Path, port: int, *, log=subprocess.DEVNULL, timeout: float = 120.0) -> subprocess.Popen:
    """Start ``chroma run`` on 127.0.0.1:``port`` over ``folder`` and wait for its heartbeat.

    Raises:
        RuntimeError: it exited or did not answer within ``timeout`` seconds (it is killed).
    """
    import shutil

    import httpx

    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    process = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder)],
        stdout=log, stderr=subprocess.STDOUT if log is not subprocess.DEVNULL else subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("chroma run did not start")
        time.sleep(0.2)


@contextmanager
def _chroma_server(folder: Path):
    """A ``chroma run`` on 127.0.0.1 for the several-worker measure; its URL."""
    port = _free_port()
    process = start_chroma(folder, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _level(url: str, questions: list[str], clients: int) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    health: list[float] = []
    lock = threading.Lock()
    next_question = iter(range(len(questions)))
    done = threading.Event()

    def client() -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    index = next(next_question, None)
                if index is None:
                    return
                started = time.perf_counter()
                try:
                    ok = http.post("/api/ask", json={"question": questions[index]}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    def probe() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            while not done.is_set():
                started = time.perf_counter()
                http.get("/healthz")
                health.append((time.perf_counter() - started) * 1000)
                done.wait(0.05)

    prober = threading.Thread(target=probe, daemon=True)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    prober.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    done.set()
    prober.join()
    return {
        "clients": clients,
        "requests": len(latencies) + errors,
        "errors": errors,
        "throughput_per_s": len(latencies) / wall if wall else 0.0,
        "p50": _percentile(latencies, 0.5),
        "p95": _percentile(latencies, 0.95),
        "mean": statistics.fmean(latencies) if latencies else 0.0,
        "healthz_p50": _percentile(health, 0.5),
        "healthz_p95": _percentile(health, 0.95),
        "healthz_max": max(health, default=0.0),
    }


def run_load(
    data_dir: Path, questions: list[str], *, levels: tuple[int, ...] = (1, 10, 50),
    extra_env: dict[str, str] | None = None, workers: int = 1,
) -> dict[str, Any]:
    """Throughput and latency at each concurrency level, through a real server over ``data_dir``.

    Each level asks every question once, after a restart of the server's query cache (a fresh
    server per level), so that concurrency, not caching, is what is compared. The server works on
    a copy of ``data_dir``: benchmark questions never reach the real conversations or observatory.
    """
    import shutil
    import tempfile

    import httpx

    results = []
    peak = 0.0
    with tempfile.TemporaryDirectory(prefix="orientia-load-") as scratch, ExitStack() as stack:
        copy = Path(scratch) / "data"
        env = dict(extra_env or {})
        if workers > 1:
            # Several processes need a Chroma server: a fresh one, filled by the first start.
            env["ORIENTIA_CHROMA_URL"] = stack.enter_context(_chroma_server(Path(scratch) / "chroma"))
            env["ORIENTIA_WORKERS"] = str(workers)
            copy.mkdir()
        else:
            shutil.copytree(data_dir, copy)
        for clients in levels:
            with _server(copy, env) as (url, pid):
                httpx.post(f"{url}/api/ask", json={"question": "préchauffage : formation IA"}, timeout=120)
                results.append(_level(url, questions, clients))
                peak = max(peak, _peak_rss_mb(pid))
    single = results[0]["throughput_per_s"] or 1.0
    for r in results:
        r["speedup"] = r["throughput_per_s"] / single
    return {"levels": results, "server_peak_rss_mb": peak, "workers": workers}


def format_load(report: dict[str, Any]) -> str:
    workers = report.get("workers", 1)
    how = f"{workers} processus, serveur Chroma" if workers > 1 else "1 processus, Chroma embarqué"
    lines = [f"Par HTTP (uvicorn sur 127.0.0.1, {how}, clients httpx, chaque question une fois par niveau) :"]
    for r in report["levels"]:
        lines.append(
            f"  {r['clients']:>2} client(s) : {r['throughput_per_s']:.1f} réponses/s (×{r['speedup']:.2f}), "
            f"p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, {r['errors']} erreur(s) sur {r['requests']} ; "
            f"/healthz p50 {r['healthz_p50']:.0f} ms, p95 {r['healthz_p95']:.0f} ms, max {r['healthz_max']:.0f} ms"
        )
    lines.append(f"  mémoire du serveur (RSS max) : {report['server_peak_rss_mb']:.0f} Mo")
    return "\n".join(lines)
