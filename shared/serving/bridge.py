"""Tessera's bridge to an Azure ML-style Python scoring script (shared/serving/python-scorer.ts).

Usage: python3 -u bridge.py <score.py>

Imports the script (its folder first on sys.path), calls init() once, then answers JSON lines on
stdin, {"id": n, "body": "<raw request>"}, with one JSON line each on the original stdout:
{"id": n, "ok": true, "body": "...", "json": true|false} or {"id": n, "ok": false, "message", "trace"}.
The first line out is {"ready": true} or {"ready": false, "message", "trace"}. Whatever the script
prints goes to stderr, so it never corrupts the protocol.
"""
import importlib.util
import json
import os
import sys
import traceback

proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def send(message):
    proto.write(json.dumps(message) + "\n")
    proto.flush()


def to_json(value):
    def default(o):
        if hasattr(o, "tolist"):
            return o.tolist()
        if hasattr(o, "item"):
            return o.item()
        raise TypeError(f"run() returned a {type(o).__name__}, which is not JSON serializable")

    return json.dumps(value, default=default)


def main():
    script = os.path.abspath(sys.argv[1])
    sys.path.insert(0, os.path.dirname(script))
    try:
        spec = importlib.util.spec_from_file_location("score", script)
        module = importlib.util.module_from_spec(spec)
        sys.modules["score"] = module
        spec.loader.exec_module(module)
        run = getattr(module, "run", None)
        if not callable(run):
            raise TypeError("the scoring script defines no run() function")
        init = getattr(module, "init", None)
        if callable(init):
            init()
    except BaseException as error:  # noqa: BLE001 - init failures of any kind are reported
        send({"ready": False, "message": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()})
        return
    send({"ready": True})
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            out = run(request["body"])
            if isinstance(out, (bytes, bytearray)):
                out = out.decode("utf-8")
            if isinstance(out, str):
                send({"id": request["id"], "ok": True, "body": out, "json": False})
            else:
                send({"id": request["id"], "ok": True, "body": to_json(out), "json": True})
        except Exception as error:  # noqa: BLE001 - a run() failure is answered, not fatal
            send(
                {
                    "id": request["id"],
                    "ok": False,
                    "message": f"{type(error).__name__}: {error}",
                    "trace": traceback.format_exc(),
                }
            )


main()
