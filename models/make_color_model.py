#!/usr/bin/python3
"""Writes the colour classifier used by the `onnx:` runner: OUTPUT_DIR/model.onnx and its sidecar
OUTPUT_DIR/model.json (see docs/adding-a-model.md).

The model names the dominant colour of an RGB image. Its weights are set by hand, not trained:
GlobalAveragePool gives the mean of each channel, a Gemm multiplies the three means by 10
(weights 10 * identity, bias 0, transB=1 as OpenCV requires), and Softmax turns them into
probabilities of "red", "green" and "blue". The class with the highest probability is the
channel with the highest mean.

The output is byte-for-byte reproducible: no timestamps, no randomness, a fixed producer, IR
version and opset. Usage: make_color_model.py OUTPUT_DIR
"""

import json
import os
import sys

import onnx
from onnx import TensorProto, helper, shape_inference

SIDE = 32
LABELS = ["red", "green", "blue"]
GAIN = 10.0
OPSET = 13
IR_VERSION = 7  # the IR version that goes with opset 13

SIDECAR = {
    "input": {
        "kind": "image",
        "width": SIDE,
        "height": SIDE,
        "channels": 3,
        "color": "RGB",
        "layout": "NCHW",
        "scale": 1.0 / 255.0,
        "mean": [0.0, 0.0, 0.0],
        "std": [1.0, 1.0, 1.0],
    },
    "labels": LABELS,
    "output": "scores",
}


def build_model():
    classes = len(LABELS)
    weights = [GAIN if row == column else 0.0 for row in range(classes) for column in range(3)]
    initializers = [
        helper.make_tensor("classifier.weight", TensorProto.FLOAT, [classes, 3], weights),
        helper.make_tensor("classifier.bias", TensorProto.FLOAT, [classes], [0.0] * classes),
    ]
    nodes = [
        helper.make_node("GlobalAveragePool", ["image"], ["channel_means"], name="pool"),
        helper.make_node("Flatten", ["channel_means"], ["features"], name="flatten", axis=1),
        helper.make_node(
            "Gemm",
            ["features", "classifier.weight", "classifier.bias"],
            ["logits"],
            name="classifier",
            alpha=1.0,
            beta=1.0,
            transB=1,
        ),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "dominant_color",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, classes])],
        initializer=initializers,
    )
    model = helper.make_model(
        graph,
        producer_name="tidemark-make-color-model",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.doc_string = "Dominant colour (red, green, blue) of an RGB image scaled to 0..1."
    model = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model


def write_atomically(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_color_model.py OUTPUT_DIR\n")
        return 2
    output_dir = argv[1]
    os.makedirs(output_dir, exist_ok=True)
    model = build_model()
    write_atomically(
        os.path.join(output_dir, "model.onnx"), model.SerializeToString(deterministic=True)
    )
    sidecar = json.dumps(SIDECAR, indent=2) + "\n"
    write_atomically(os.path.join(output_dir, "model.json"), sidecar.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
