"""Bytes of TorchServe's frontend/worker protocol, produced and parsed by TorchServe's own code
(ts.protocol.otf_message_handler), for the Swift codec's tests.

  wire_fixture.py responses   prints a JSON list of worker responses: {name, hex}
  wire_fixture.py decode      reads a hex message on stdin, prints what the worker parsed, as JSON
"""
import base64
import json
import sys

from ts.context import Context, RequestProcessor
from ts.protocol import otf_message_handler as otf


def context(batch):
    ctx = Context("m", "/tmp", {}, batch, None, "0.12.0")
    ctx.request_processor = [RequestProcessor({}) for _ in range(batch)]
    return ctx


def responses():
    cases = [{"name": "load", "hex": otf.create_load_model_response(200, "loaded model mlp").hex()}]
    cases.append({"name": "loadFailed", "hex": otf.create_load_model_response(500, "Unknown exception").hex()})
    cases.append({
        "name": "batchFailed",
        "hex": otf.create_predict_response(None, {0: "a", 1: "b"}, "Prediction failed", 503).hex(),
    })
    ctx = context(3)
    ctx.set_response_content_type(0, "text/plain")
    ctx.set_response_status(507, "Invalid response", 1)
    ctx.set_response_header(2, "x-extra", "yes")
    ret = ["héllo", b"\x00\x01\xff", {"b": [1, 2], "a": 0.5}]
    cases.append({
        "name": "predictions",
        "hex": otf.create_predict_response(ret, {0: "r0", 1: "r1", 2: "r2"}, "Prediction success", 200,
                                           context=ctx).hex(),
    })
    ctx = context(1)
    cases.append({
        "name": "intermediate",
        "hex": otf.create_predict_response(["chunk"], {0: "s"}, "Prediction success", 200, context=ctx,
                                           ts_stream_next=True).hex(),
    })
    print(json.dumps(cases))


class Conn:
    def __init__(self, data):
        self.data = data
        self.position = 0

    def recv(self, n):
        chunk = self.data[self.position:self.position + n]
        self.position += len(chunk)
        return chunk


def plain(value):
    if isinstance(value, (bytes, bytearray)):
        return {"b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def decode():
    conn = Conn(bytes.fromhex(sys.stdin.read().strip()))
    cmd, msg = otf.retrieve_msg(conn)
    print(json.dumps({"cmd": cmd.decode(), "msg": plain(msg), "rest": len(conn.data) - conn.position}))


if __name__ == "__main__":
    {"responses": responses, "decode": decode}[sys.argv[1]]()
