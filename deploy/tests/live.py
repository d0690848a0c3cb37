"""What the live deployment checks share: waiting for a log line, HTTP calls, a tally of checks, and
stopping the processes they started. Standard library only."""
import re
import subprocess
import time
import urllib.error
import urllib.request


def wait_for(pattern, path, timeout, process=None):
    """The first match of `pattern` in the file at `path`; gives up at `timeout` s or when `process` exits."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        match = re.search(pattern, path.read_text(errors="replace"))
        if match:
            return match
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    raise TimeoutError(f"{pattern!r} not in {path} after {timeout} s:\n{path.read_text(errors='replace')[-3000:]}")


def http(url, data=None, headers=None, key=None):
    """(status, body) of one request; `key` is sent as a Bearer token."""
    headers = dict(headers or {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def stop(processes):
    """SIGTERM to each, then SIGKILL to any still running after 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class Checks:
    """Prints each check as it is made; `result` is the exit status."""

    def __init__(self):
        self.failures = []

    def __call__(self, condition, message):
        print("ok  " if condition else "FAIL", message)
        if not condition:
            self.failures.append(message)

    def result(self, name):
        print()
        if self.failures:
            print(f"{len(self.failures)} failure(s)")
            return 1
        print(f"{name}: all checks passed")
        return 0
