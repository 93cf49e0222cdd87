"""quakelab's CatBoost worker: trains and predicts with the official catboost package on request.

Started by quakelab (src/decode/catboost.rs) as `<venv python> -I -c <this file>`; the protocol
is described there. Every message is a JSON header frame followed by the binary frames it
announces in `blobs`; a frame is a little-endian u64 length and that many bytes. The worker is
stateless: a model travels as its CatBoost binary (cbm) bytes.
"""

import json
import os
import struct
import sys
import tempfile
import traceback

# The protocol keeps the original stdout; everything printed afterwards (CatBoost's own
# iteration log included, from C++ or from Python) goes to stderr, which quakelab forwards to
# its log, so nothing can corrupt a frame.
PROTOCOL_OUT = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
sys.stdout = sys.stderr
PROTOCOL_IN = sys.stdin.buffer


def read_exactly(n):
    chunks = []
    while n > 0:
        chunk = PROTOCOL_IN.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame():
    prefix = read_exactly(8)
    if prefix is None:
        return None
    (length,) = struct.unpack("<Q", prefix)
    body = read_exactly(length)
    if body is None:
        raise EOFError("the request ended inside a frame")
    return body


def read_message():
    """The next request as (header, blobs), or None at the end of the input."""
    head = read_frame()
    if head is None:
        return None
    header = json.loads(head.decode("utf-8"))
    blobs = {}
    for spec in header.get("blobs", []):
        body = read_frame()
        if body is None:
            raise EOFError("the request ended before its blob " + spec["name"])
        if spec["dtype"] == "f64":
            blobs[spec["name"]] = np.frombuffer(body, dtype="<f8").reshape(spec["shape"])
        else:
            blobs[spec["name"]] = body
    return header, blobs


def write_message(header, blobs=()):
    """Sends `header` with `blobs`, a sequence of (name, numpy array of f64 or bytes)."""
    specs, bodies = [], []
    for name, value in blobs:
        if isinstance(value, bytes):
            specs.append({"name": name, "dtype": "bytes", "shape": [len(value)]})
            bodies.append(value)
        else:
            array = np.ascontiguousarray(value, dtype="<f8")
            specs.append({"name": name, "dtype": "f64", "shape": list(array.shape)})
            bodies.append(array.tobytes())
    header = dict(header, blobs=specs)
    for body in [json.dumps(header).encode("utf-8")] + bodies:
        PROTOCOL_OUT.write(struct.pack("<Q", len(body)))
        PROTOCOL_OUT.write(body)
    PROTOCOL_OUT.flush()


def fit(header, blobs):
    model = catboost.CatBoostRegressor(**header["params"])
    fit_args = {}
    if "valid_x" in blobs:
        fit_args["eval_set"] = (blobs["valid_x"], blobs["valid_y"])
    if header.get("early_stopping_rounds") is not None:
        fit_args["early_stopping_rounds"] = header["early_stopping_rounds"]
    model.fit(blobs["x"], blobs["y"], **fit_args)
    with tempfile.TemporaryDirectory(prefix="quakelab-catboost-") as folder:
        path = os.path.join(folder, "model.cbm")
        model.save_model(path, format="cbm")
        with open(path, "rb") as f:
            saved = f.read()
    importance = model.get_feature_importance(type="PredictionValuesChange")
    reply = {"ok": True, "best_iteration": model.get_best_iteration(),
             "tree_count": model.tree_count_}
    return reply, [("model", saved), ("importance", importance)]


def predict(header, blobs):
    model = catboost.CatBoostRegressor()
    model.load_model(blob=blobs["model"])
    return {"ok": True}, [("prediction", model.predict(blobs["x"]))]


OPS = {"fit": fit, "predict": predict}


def error_reply(error):
    """The reply to a request that raised `error`; its traceback goes to the log."""
    traceback.print_exc(file=sys.stderr)
    return {"ok": False, "error_type": type(error).__name__, "message": str(error)}


try:
    import numpy as np
    import catboost
except Exception as error:  # an import that fails for any reason is reported
    write_message(error_reply(error))
    sys.exit(1)

write_message({"ok": True, "op": "ready", "catboost": catboost.__version__})

while True:
    message = read_message()
    if message is None:
        break
    header, blobs = message
    op = OPS.get(header.get("op"))
    if op is None:
        write_message({"ok": False, "error_type": "ProtocolError",
                       "message": "unknown op " + repr(header.get("op"))})
        continue
    try:
        reply, out = op(header, blobs)
    except Exception as error:
        write_message(error_reply(error))
        continue
    write_message(reply, out)
