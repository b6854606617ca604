"""Peak memory of the API process during a large streamed upload.

Writes a CSV of `--mb` megabytes (an A/B test with a few numeric columns), starts `cerebro serve`
on a fresh SQLite database with no job workers, and uploads the file with a streaming client
(the body is read from disk as it is sent). It prints the API process's peak resident memory
(`VmHWM`) before and after the upload, and the upload's time. The upload is streamed to disk
(the multipart parser spools past 1 MB, and the route copies in 1 MB chunks); the dataset's
profile, computed from the whole parsed table, runs in a spawned child process for a file past
16 MB (`cerebro.service.profile.IN_PROCESS_BYTES`), so its memory is not the API process's.

    PYTHONPATH=src python bench/bench_service_upload.py --mb 200
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service_load import fresh_database, make_token, start_server


def write_csv(path: Path, megabytes: int) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as out:
        out.write("arm,revenue,x1,x2,x3\n")
        while path.stat().st_size < megabytes * 1024 * 1024:
            n = 100_000
            arm = rng.choice(np.array(["control", "B"]), n)
            values = rng.normal(10, 2, size=(n, 4)).round(4)
            lines = (f"{a},{v[0]},{v[1]},{v[2]},{v[3]}" for a, v in zip(arm, values, strict=True))
            out.write("\n".join(lines) + "\n")
            out.flush()


def memory_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak (VmHWM) or current (VmRSS) resident memory."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


def watch(pid: int, data: Path, peaks: dict[str, float], done: threading.Event) -> None:
    """The largest resident memory while the upload is received and stored (until the file is
    in the data folder), and after it (reading and profiling the table)."""
    while not done.is_set():
        phase = "profile" if any(data.rglob("big.csv")) else "stream"
        peaks[phase] = max(peaks.get(phase, 0.0), memory_mb(pid, "VmRSS"))
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    csv = folder / "big.csv"
    write_csv(csv, args.mb)
    db, drop = fresh_database("sqlite")
    server, url = start_server(db, 0, folder / "data", max_upload_mb=args.mb + 50)
    try:
        token = make_token(db)
        before = memory_mb(server.pid)
        peaks: dict[str, float] = {}
        done = threading.Event()
        watcher = threading.Thread(target=watch, args=(server.pid, folder / "data", peaks, done))
        watcher.start()
        started = time.perf_counter()
        with csv.open("rb") as handle:
            response = httpx.post(f"{url}/api/v1/datasets", files={"file": ("big.csv", handle)},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=600)  # fmt: skip
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
        after, resident = memory_mb(server.pid), memory_mb(server.pid, "VmRSS")
        body = response.json()
        print(f"upload of {csv.stat().st_size / 2**20:.0f} MB ({body.get('rows')} rows): "
              f"HTTP {response.status_code} in {seconds:.1f} s; API process peak RSS "
              f"{before:.0f} MB before, {after:.0f} MB after – while streaming to disk "
              f"{peaks.get('stream', 0):.0f} MB, while profiling {peaks.get('profile', 0):.0f} MB; "
              f"resident after the response {resident:.0f} MB")  # fmt: skip
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        drop()
        csv.unlink()


if __name__ == "__main__":
    main()
