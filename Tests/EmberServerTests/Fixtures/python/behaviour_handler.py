"""A function handler that misbehaves on request: each body is {"action": ...}; `ok` answers the
worker's pid, `raise` raises, `status` sets a per-request status, `exit` kills the process, `sleep`
hangs, `metric` emits a custom metric, `stream` sends intermediate responses."""
import os
import time

from ts.handler_utils.utils import send_intermediate_predict_response


def handle(data, context):
    if data is None:
        return None
    answers = []
    for index, request in enumerate(data):
        body = request.get("body") or {}
        action = body.get("action", "ok") if isinstance(body, dict) else "ok"
        if action == "raise":
            raise ValueError("asked to raise")
        if action == "exit":
            os._exit(3)
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
