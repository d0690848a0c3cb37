"""The faults of the soak (benchmarks/soak.py, on unless --no-faults): Ember in background mode under its
supervisor, killed with SIGKILL under load; a Python worker that hangs past its response timeout; slow
clients; clients that leave mid-request; and a record of every acknowledged registration, checked after
the restart and at the end. Standard library only; loopback only."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

from common import http_request, log, rss_kib

SERVER_STARTED = re.compile(r"server process (\d+) started")


class SupervisedEmber:
    """`ember --start` without --foreground: the supervisor keeps `ember --start --foreground` up. The pid
    file and the logs live in the run's own directory (TMPDIR, LOG_LOCATION)."""

    def __init__(self, binary, arguments, work, env):
        self.binary = os.path.abspath(binary)
        self.work = work
        self.env = dict(env, TMPDIR=work, LOG_LOCATION=os.path.join(work, "logs"))
        self.log_path = os.path.join(work, "logs", "ember.log")
        result = subprocess.run([self.binary, "--start", *arguments], cwd=work, env=self.env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"ember --start exited with {result.returncode}: {result.stderr.decode()[-2000:]}")

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def server_pids(self):
        """Every server process the supervisor started, in order."""
        return [int(pid) for pid in SERVER_STARTED.findall(self.log_text())]

    def server_pid(self):
        pids = self.server_pids()
        return pids[-1] if pids else None

    def supervisor_pid(self):
        try:
            with open(os.path.join(self.work, ".model_server.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def alive(self):
        pid = self.server_pid()
        return pid is not None and rss_kib(pid) > 0

    def rss_kib(self):
        pid = self.server_pid()
        return rss_kib(pid) if pid else 0

    def kill_server(self):
        """SIGKILL to the server process (not the supervisor): what the OOM killer or a native crash does."""
        pid = self.server_pid()
        if pid:
            os.kill(pid, signal.SIGKILL)
        return pid

    def stop(self):
        """`ember --stop`: the supervisor stops the server and then itself. Whatever is left is killed."""
        supervisor, server = self.supervisor_pid(), self.server_pid()
        subprocess.run([self.binary, "--stop"], cwd=self.work, env=self.env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        for pid in (server, supervisor):
            if pid and rss_kib(pid) > 0:
                log(f"process {pid} still running after ember --stop: SIGKILL")
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


class Window:
    """When the server was down: from each kill until it answered again (plus a grace second for
    connections that were open across the kill)."""

    GRACE = 1.0

    def __init__(self):
        self._lock = threading.Lock()
        self.spans = []  # [kill time, recovered time or None]

    def open(self, at):
        with self._lock:
            self.spans.append([at, None])

    def close(self, at):
        with self._lock:
            self.spans[-1][1] = at

    def contains(self, at):
        with self._lock:
            return any(start <= at <= (end if end is not None else float("inf")) + self.GRACE
                       for start, end in self.spans)

    def recoveries(self):
        with self._lock:
            return [end - start for start, end in self.spans if end is not None]


class Registrations:
    """What the server acknowledged: each model's last answered state (registered or not), and the
    worker count of its last answered scale. An unanswered call (the server died under it) makes that
    model unknown until its next answer."""

    def __init__(self):
        self._lock = threading.Lock()
        self.state = {}
        self.workers = {}

    def answered(self, model, registered, workers=None):
        with self._lock:
            self.state[model] = registered
            if workers is not None:
                self.workers[model] = workers

    def is_unknown(self, model):
        with self._lock:
            return model in self.state and self.state[model] is None

    def unknown(self, model):
        with self._lock:
            self.state[model] = None
            self.workers.pop(model, None)

    def check(self, management_port):
        """(lost registrations, wrong worker counts, details) against GET /models and describe."""
        with self._lock:
            state, workers = dict(self.state), dict(self.workers)
        listed, token = set(), None
        for _ in range(100):
            path = "/models?limit=100" + (f"&next_page_token={token}" if token else "")
            status, body = http_request("GET", management_port, path, timeout=30)
            if status != 200:
                return None, None, [f"GET /models answered {status}"]
            page = json.loads(body)
            listed |= {m["modelName"] for m in page.get("models", [])}
            token = page.get("nextPageToken")
            if not token:
                break
        details = []
        lost = [m for m, registered in state.items() if registered and m not in listed]
        details += [f"{m}: registered (answered 200) but missing after the restart" for m in lost]
        wrong = []
        for model, count in workers.items():
            if state.get(model) is False or model not in listed:
                continue
            status, body = http_request("GET", management_port, f"/models/{model}", timeout=30)
            if status != 200:
                wrong.append(model)
                details.append(f"{model}: describe answered {status}")
                continue
            described = json.loads(body)[0].get("minWorkers")
            if described != count:
                wrong.append(model)
                details.append(f"{model}: minWorkers {described}, the last answered scale said {count}")
        return len(lost), len(wrong), details


def wait_answering(inference_port, timeout, stop):
    """The moment /ping answers 200 (every model has its minimum workers), or None after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        status, _ = http_request("GET", inference_port, "/ping", timeout=5)
        if status == 200:
            return time.monotonic()
        time.sleep(0.05)
    return None


def recovery(inference_port, body, timeout, stop):
    """After a kill: when the listener answered HTTP again, when a prediction on mlp was 200 again, and
    when /ping was Healthy again (every model, the hanging one too, has its minimum workers); None for
    what did not happen within `timeout` s."""
    start = time.monotonic()
    answered = predicted = healthy = None
    while time.monotonic() < start + timeout and not stop.is_set() and (predicted is None or healthy is None):
        status, _ = http_request("GET", inference_port, "/ping", timeout=5)
        now = time.monotonic()
        if status and answered is None:
            answered = now
        if status == 200 and healthy is None:
            healthy = now
        if status and predicted is None:
            status, _ = http_request("POST", inference_port, "/predictions/mlp", body=body,
                                     headers={"Content-Type": "application/json"}, timeout=30)
            if status == 200:
                predicted = time.monotonic()
        time.sleep(0.05)
    return answered, predicted, healthy


def killer(server, inference_port, body, at_times, window, stop, kills):
    """SIGKILL the server at each of `at_times` (monotonic), then time its return: `kills` gets
    (pid, seconds to an HTTP answer, to a 200 prediction, to Healthy)."""
    for at in at_times:
        while not stop.is_set() and time.monotonic() < at:
            stop.wait(0.2)
        if stop.is_set():
            return
        now = time.monotonic()
        window.open(now)
        pid = server.kill_server()
        log(f"kill -9 of server process {pid}")
        answered, predicted, healthy = recovery(inference_port, body, 300, stop)
        window.close(predicted if predicted is not None else time.monotonic())
        since = [None if t is None else t - now for t in (answered, predicted, healthy)]
        kills.append((pid, *since))
        log(f"after the kill (new process {server.server_pid()}): " + ", ".join(
            f"{what} {'never' if t is None else f'{t:.1f} s'}"
            for what, t in zip(("HTTP answer", "200 prediction", "Healthy"), since)))


def raw_request(port, path, body, chunks=1, pause=0.0, timeout=60):
    """One POST over a plain socket, the body in `chunks` pieces `pause` s apart; the status (0: no answer)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        size = max(1, -(-len(body) // chunks))
        for start in range(0, len(body), size):
            sock.sendall(body[start:start + size])
            if pause:
                time.sleep(pause)
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    return int(match.group(1)) if match else 0


def slow_client(port, body, counts, window, deadline, stop):
    """Sends each prediction's body in 8 pieces over about 2 s (well inside the body timeout): 200."""
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            status = raw_request(port, "/predictions/mlp", body, chunks=8, pause=0.25)
        except OSError as error:
            status = 0
            body_text = str(error).encode()
        else:
            body_text = b""
        counts.add("slow client mlp", status, {200}, body_text, around_kill=window.contains(time.monotonic()))
        stop.wait(0.5)


def leaving_client(port, body, counts, deadline, stop):
    """Sends a prediction and closes the socket at once (half the time after only half the body)."""
    sent = 0
    while not stop.is_set() and time.monotonic() < deadline:
        head = (f"POST /predictions/mlp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(head + (body if sent % 2 == 0 else body[:len(body) // 2]))
        except OSError:
            pass
        sent += 1
        counts.add("client leaves mid-request", "left", {"left"})
        stop.wait(0.1)


def hanging_client(port, counts, window, deadline, stop):
    """A prediction on the Python handler that sleeps 60 s, past its 2 s response timeout: 500, the worker
    is replaced, and the next one hangs again."""
    while not stop.is_set() and time.monotonic() < deadline:
        status, body = http_request("POST", port, "/predictions/hang", body=b'{"action": "sleep"}',
                                    headers={"Content-Type": "application/json"}, timeout=90)
        counts.add("hang past the timeout", status, {500}, body, around_kill=window.contains(time.monotonic()))
        stop.wait(2.0)
