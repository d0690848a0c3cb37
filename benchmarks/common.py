"""What the benchmark scripts share (benchmarks/run.py and benchmarks/soak.py): a server process in its own
session, stopped on every way out; its memory read from /proc; free loopback ports; plain HTTP calls to
127.0.0.1; the temporary config.properties; a log line on stderr.

Standard library only (Debian's /usr/bin/python3). The scripts import it as `common` after putting their
own directory first on sys.path, so they run from any working directory.
"""
import atexit
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STARTED_MARKER = "Model server started."

_log_tag = "bench"


def set_log_tag(tag):
    """What `log` puts before the time: `[bench 12:00:00]`, `[soak 12:00:00]`."""
    global _log_tag
    _log_tag = tag


def log(message):
    print(f"[{_log_tag} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------
# Processes and their memory, read from /proc.

def process_tree(root_pid):
    """root_pid and all its descendants, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root_pid]
    while todo and len(tree) < 10000:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_kib(pid):
    """The process's VmRSS in KiB; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------------
# The servers: each in its own session, all stopped on exit.

_servers = []


def _kill_group(pgid, signum):
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


class Server:
    """A server process in its own session, with stdout drained to a log file by a thread."""

    def __init__(self, name, argv, cwd, env, log_path, stop_timeout=15):
        self.name = name
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self.started = threading.Event()
        self.start_time = time.monotonic()
        self.started_at = None
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        _servers.append(self)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace")
            try:
                self._log.write(line)
                self._log.flush()
            except ValueError:  # closed by stop() while a straggler still held the pipe
                pass
            if STARTED_MARKER in line and not self.started.is_set():
                self.started_at = time.monotonic()
                self.started.set()

    def alive(self):
        return self.proc.poll() is None

    def wait_started(self, timeout):
        """True once the server has printed STARTED_MARKER; False when it exits or the timeout passes first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.started.wait(0.05):
                return True
            if not self.alive():
                return False
        return False

    def log_tail(self, chars=3000):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

    def rss_kib(self):
        """Resident memory of the server process itself (KiB)."""
        return rss_kib(self.proc.pid)

    def tree_rss_kib(self, subtree_match=None):
        """(KiB, process count) of the process tree; with subtree_match, of the first descendant whose
        command line contains it and that process's own descendants (TorchServe: the Java frontend and
        workers, without the Python launcher)."""
        root = self.proc.pid
        if subtree_match:
            for pid in process_tree(self.proc.pid):
                if subtree_match in cmdline(pid):
                    root = pid
                    break
        pids = process_tree(root)
        return sum(rss_kib(pid) for pid in pids), len(pids)

    def stop(self, timeout=None):
        """SIGTERM to the group; after `timeout` s (default stop_timeout) SIGKILL to whatever is left of
        the group or of the process tree (a worker that changed its group)."""
        timeout = self.stop_timeout if timeout is None else timeout
        if self.proc.poll() is None:
            pids = process_tree(self.proc.pid)
            _kill_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} did not stop within {timeout} s of SIGTERM: SIGKILL")
            _kill_group(self.proc.pid, signal.SIGKILL)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                log(f"{self.name}: process {self.proc.pid} did not exit")
        self._reader.join(5)
        self._log.close()
        if self in _servers:
            _servers.remove(self)


def stop_all():
    for server in list(_servers):
        server.stop()


def stop_on_exit(stop=stop_all):
    """Calls `stop` (default: stop every Server) at exit and on SIGINT/SIGTERM, which then exit 128 + signal."""

    def on_signal(signum, frame):
        stop()
        sys.exit(128 + signum)

    atexit.register(stop)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def server_env(**overrides):
    """The environment for a server: ours, one OpenBLAS thread unless OPENBLAS_NUM_THREADS says otherwise."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    env.update(overrides)
    return env


def write_config(path, ports, model_store, extra=""):
    """A config.properties on loopback ports (inference, management, metrics, and the two gRPC
    listeners: ports[3] and ports[4], free ones when not given), model API on, token authorization
    off; `extra` lines are appended."""
    grpc_ports = list(ports[3:5]) if len(ports) >= 5 else free_ports(2)
    with open(path, "w") as f:
        f.write(
            "# written by benchmarks/common.py\n"
            f"inference_address=http://127.0.0.1:{ports[0]}\n"
            f"management_address=http://127.0.0.1:{ports[1]}\n"
            f"metrics_address=http://127.0.0.1:{ports[2]}\n"
            f"grpc_inference_port={grpc_ports[0]}\n"
            f"grpc_management_port={grpc_ports[1]}\n"
            f"model_store={model_store}\n"
            "enable_model_api=true\n"
            "disable_token_authorization=true\n"
            "job_queue_size=1000\n"
            + extra)


# ---------------------------------------------------------------------------------------------------
# Ports and HTTP (loopback only, no proxies: http.client talks to the socket directly).

def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_ports(count):
    """`count` distinct free loopback ports: consecutive ones above 20000 when possible."""
    for _ in range(200):
        base = 20000 + int.from_bytes(os.urandom(2), "big") % 40000
        ports = [base + i for i in range(count)]
        if all(port_free(p) for p in ports):
            return ports
    raise RuntimeError("no free loopback ports found")


def http_request(method, port, path, body=None, headers=None, timeout=30):
    """(status, body bytes); status 0 with the error text when the connection fails."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return 0, str(error).encode()
    finally:
        conn.close()
