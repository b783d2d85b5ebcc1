"""`make run`: the web server and one job consumer, started and stopped together.

    python -m core.jobs.launch --host 127.0.0.1 --port 5000

The arguments go to `flask run`. Ctrl-C (or SIGTERM) stops both; when one
of them exits, the other is stopped too, so nothing is left running.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def _stop(procs) -> None:
    # SIGTERM: the consumer stops at once (a job it was running is then
    # marked failed — its writes were never committed — and can be retried).
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]

    def terminate(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)  # also when started where SIGINT was ignored
    procs = [subprocess.Popen([*flask, "run", *args]), subprocess.Popen([*flask, "worker"])]
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        _stop(procs)
    failed = [p.returncode for p in procs if p.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
