"""A function handler that misbehaves on request: each body is {"action": ...}; `ok` answers the
worker's pid, `raise` raises, `status` sets a per-request status, `exit` kills the process, `sleep`
hangs, `metric` emits a custom metric, `stream` sends intermediate responses, `stream_wait` sends
one and then waits for the file `go` names to exist before the rest (so a test can prove the first
chunk reached it before the last was sent), `headers` answers the request headers named in `names`,
`break` makes every later start of this model crash before it is ready."""
import json
import os
import time

from ts.handler_utils.utils import send_intermediate_predict_response


def _crash_marker(context):
    return os.path.join(context.system_properties.get("model_dir"), "crash-on-start")


def handle(data, context):
    if data is None:
        # Called once at load: a model marked broken exits before its worker is ready.
        if os.path.exists(_crash_marker(context)):
            os._exit(4)
        return None
    answers = []
    for index, request in enumerate(data):
        body = request.get("body") or request.get("data") or {}
        if isinstance(body, (bytes, bytearray)):
            # Over gRPC the input map's bytes arrive undecoded (no content type), as on TorchServe.
            try:
                body = json.loads(body)
            except ValueError:
                body = {}
        action = body.get("action", "ok") if isinstance(body, dict) else "ok"
        if action == "raise":
            raise ValueError("asked to raise")
        if action == "exit":
            os._exit(3)
        if action == "break":
            open(_crash_marker(context), "w").close()
            os._exit(3)
        if action == "headers":
            answers.append({name: context.get_request_header(index, name) for name in body.get("names", [])})
            continue
        if action == "stream_wait":
            send_intermediate_predict_response(["first "], context.request_ids, "Intermediate", 200, context)
            deadline = time.time() + 20
            while not os.path.exists(body["go"]) and time.time() < deadline:
                time.sleep(0.02)
            arrived = os.path.exists(body["go"])
            send_intermediate_predict_response(["second "], context.request_ids, "Intermediate", 200, context)
            answers.append("last" if arrived else "the client never saw the first chunk")
            continue
        if action == "sleep":
            time.sleep(60)
        if action == "status":
            context.set_response_status(507, "Invalid response", index)
            answers.append("Invalid response")
            continue
        if action == "metric":
            context.metrics.add_counter("EmberTestCount", 2)
        if action == "stream":
            for word in ["hello", "hello"]:
                send_intermediate_predict_response([word + " "], context.request_ids, "Intermediate", 200, context)
            answers.append("world")
            continue
        answers.append({"pid": os.getpid(), "batch": len(data)})
    return answers
