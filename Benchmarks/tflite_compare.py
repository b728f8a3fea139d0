#!/usr/bin/env python3
"""TensorFlow Lite (with its default XNNPACK delegate) on exactly the architecture of hwr's shipped
character model, as a reference for hwr's own speed figures.  A benchmark, never a test.

The architecture is read from the JSON header of the .hwrm file (conv = 'same' 3x3 conv stride 1 +
batch norm + ReLU, max_pool 2x2 or 2x1, dropout, columns_to_sequence, bilstm, dense, then softmax)
and built in Keras with random weights (speed only).  tf_keras (Keras 2), not Keras 3: only its LSTM
converts to TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM op, and only for a fixed batch size, so the
model is converted once per batch size (the LSTM state tensors have the batch in their shape, so
resize_tensor_input cannot turn a batch-1 model into a batch-64 one).  Two variants: float32
("tflite_") and full-integer int8 post-training quantization calibrated on random images
("tflite_int8_", float input and output).  Each is timed with tf.lite.Interpreter(num_threads=N) at
batch 1 and 64, 1 and 2 threads: 0.5 s of warm-up, then --seconds of back-to-back invocations;
latency is the median (and p99) of one invocation, throughput is batch / median batch time.  Inputs
are random float32 pixels in [0, 1].  It prints one JSON object (conversion takes most of the time).

    python3 -m venv ~/tflite-venv
    ~/tflite-venv/bin/pip install -r Benchmarks/requirements-tflite.txt
    ~/tflite-venv/bin/python Benchmarks/tflite_compare.py [--model PATH] [--seconds 3]
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's own start-up chatter

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
ROOT = Path(__file__).resolve().parent.parent
CASES = [(1, 1), (1, 2), (64, 1), (64, 2)]  # (batch, threads)
BATCHES = sorted({batch for batch, _ in CASES})


def read_architecture(path):
    """The "architecture" object of a .hwrm file: b"HWRM", uint32 LE version, then a JSON header."""
    data = Path(path).read_bytes()
    if data[:4] != b"HWRM":
        sys.exit(f"{path}: not an HWRM file")
    start = data.index(b"{")
    header, _ = json.JSONDecoder().raw_decode(data[start:].decode("utf-8", errors="replace"))
    return header["architecture"]


def build_keras_model(arch, seed=0):
    """The architecture as a Keras model (batch size left open), random weights."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    inputs = keras.Input((arch["inputHeight"], arch["inputWidth"], 1))
    x = inputs
    for layer in arch["layers"]:
        kind = layer["kind"]
        if kind == "conv":
            x = layers.Conv2D(layer["filters"], layer["kernel"], padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        elif kind == "max_pool":
            x = layers.MaxPooling2D((layer.get("poolHeight", 2), layer.get("poolWidth", 2)))(x)
        elif kind == "dropout":
            x = layers.Dropout(layer["rate"])(x)
        elif kind == "columns_to_sequence":  # [h, w, c] -> w steps of h*c features
            _, h, w, c = x.shape
            x = layers.Permute((2, 1, 3))(x)
            x = layers.Reshape((w, h * c))(x)
        elif kind == "bilstm":
            lstm = layers.LSTM(layer["units"], return_sequences=layer["returnSequences"])
            x = layers.Bidirectional(lstm)(x)
        elif kind == "dense":
            x = layers.Dense(layer["units"], activation="relu" if layer["relu"] else None)(x)
        else:
            sys.exit(f"unknown layer kind {kind!r}")
    outputs = layers.Softmax()(x)
    model = keras.Model(inputs, outputs)
    # Batch-norm statistics as after training, not the identity of a fresh layer.
    for bn in (lyr for lyr in model.layers if isinstance(lyr, layers.BatchNormalization)):
        n = bn.moving_mean.shape[0]
        bn.moving_mean.assign(np.random.normal(0, 0.1, n).astype(np.float32))
        bn.moving_variance.assign(np.random.uniform(0.5, 2, n).astype(np.float32))
    return model


def random_images(arch, batch, rng):
    return rng.random((batch, arch["inputHeight"], arch["inputWidth"], 1), dtype=np.float32)


def convert(model, arch, batch, int8):
    """The model as a TFLite flatbuffer for a fixed batch size: float32, or int8 post-training
    quantization.  A fixed batch is what lets the converter fuse each Keras LSTM into one
    UNIDIRECTIONAL_SEQUENCE_LSTM op (with an open batch it fails on TensorList ops)."""
    shape = [batch, arch["inputHeight"], arch["inputWidth"], 1]
    function = tf.function(lambda images: model(images, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(shape, tf.float32))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete], model)
    if int8:
        rng = np.random.default_rng(1)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: (
            [random_images(arch, batch, rng)] for _ in range(20))
    return converter.convert()


def op_names(tflite_model):
    """Operators of the converted graph (no delegate applied): name -> count, in execution order."""
    no_delegates = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    interpreter = tf.lite.Interpreter(model_content=tflite_model,
                                      experimental_op_resolver_type=no_delegates)
    interpreter.allocate_tensors()
    names = [op["op_name"] for op in interpreter._get_ops_details()]
    return {name: names.count(name) for name in names}


def ops_outside_delegate(interpreter):
    """Operators a delegate left to TFLite's own kernels: name -> count.  Each partition a delegate
    takes shows up as one DELEGATE node; the nodes it replaced are those between its inputs and
    outputs."""
    ops = interpreter._get_ops_details()
    producer = {tensor: op for op in ops if op["op_name"] != "DELEGATE" for tensor in op["outputs"]}
    delegated = set()
    for node in (op for op in ops if op["op_name"] == "DELEGATE"):
        stack = list(node["outputs"])
        while stack:
            tensor = stack.pop()
            op = producer.get(tensor)
            if tensor in node["inputs"] or op is None or op["index"] in delegated:
                continue
            delegated.add(op["index"])
            stack += [t for t in op["inputs"] if t >= 0]
    names = [op["op_name"] for op in ops
             if op["op_name"] != "DELEGATE" and op["index"] not in delegated]
    return {name: names.count(name) for name in names}


def make_interpreter(tflite_model, threads):
    """An interpreter with the default delegates (XNNPACK), tensors allocated, invoked once;
    returns it and the native log of its start-up, where TFLite says which delegate it applied."""
    with tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)  # the C++ runtime logs to file descriptor 2
        try:
            interpreter = tf.lite.Interpreter(model_content=tflite_model, num_threads=threads)
            interpreter.allocate_tensors()
            interpreter.invoke()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        return interpreter, log.read().decode(errors="replace")


def time_invocations(interpreter, images, seconds):
    """Per-invocation times in ms: 0.5 s (at least 3 runs) of warm-up, then `seconds` of runs.
    The converted LSTMs keep their state in variable tensors from one invocation to the next, so
    each timed call resets them first, as any caller must for independent inputs."""
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], images)
    times = []
    for budget in (0.5, seconds):
        times = []
        end = time.perf_counter() + budget
        while time.perf_counter() < end or len(times) < 3:
            t0 = time.perf_counter()
            interpreter.reset_all_variables()
            interpreter.invoke()
            times.append((time.perf_counter() - t0) * 1000)
    return np.array(times)


def measure(prefix, model, arch, int8, seconds):
    """Converts and times one variant: JSON keys starting with `prefix`, and the runtime's log."""
    rng = np.random.default_rng(2)
    result, log = {}, ""
    converted = {batch: convert(model, arch, batch, int8) for batch in BATCHES}
    for batch, threads in CASES:
        interpreter, interpreter_log = make_interpreter(converted[batch], threads)
        log += interpreter_log
        times = time_invocations(interpreter, random_images(arch, batch, rng), seconds)
        key = f"{prefix}_b{batch}_t{threads}"
        if batch == 1:
            result[key + "_ms"] = round(float(np.median(times)), 4)
            result[key + "_p99_ms"] = round(float(np.percentile(times, 99)), 4)
        else:
            result[key + "_img_per_s"] = round(batch * 1000 / float(np.median(times)), 1)
            result[key + "_batch_ms"] = round(float(np.median(times)), 3)
        result[key + "_runs"] = len(times)
    partitions = sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())
    result[prefix + "_xnnpack_applied"] = partitions > 0
    result[prefix + "_xnnpack_partitions"] = partitions
    result[prefix + "_ops_outside_xnnpack"] = ops_outside_delegate(interpreter)
    result[prefix + "_ops"] = op_names(converted[1])
    result[prefix + "_bytes"] = len(converted[1])
    return result, log


def machine():
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "load_average": [round(v, 2) for v in os.getloadavg()]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "hwr-char.hwrm"))
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per case")
    args = parser.parse_args()

    started = time.perf_counter()
    arch = read_architecture(args.model)
    model = build_keras_model(arch)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine(), "tensorflow_version": tf.__version__,
              "model": os.path.relpath(args.model, ROOT), "parameters": model.count_params()}
    log = ""
    for prefix, int8 in (("tflite", False), ("tflite_int8", True)):
        timings, variant_log = measure(prefix, model, arch, int8, args.seconds)
        result.update(timings)
        log += variant_log
    # TFLite logs "Created TensorFlow Lite XNNPACK delegate for CPU." once per process.
    result["runtime_log"] = sorted({line.strip() for line in log.splitlines()
                                    if "delegate" in line.lower()})
    result["machine"]["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
