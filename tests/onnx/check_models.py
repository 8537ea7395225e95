#!/usr/bin/env python3
"""ONNX's own checker on every model onnx_export_networks wrote (ctest -L onnx).

    check_models.py DIR

For each entry of DIR/manifest.json: onnx.checker.check_model(full_check=True)
(the graph, each node against its operator's schema at the model's opset,
and strict shape inference), then the output shape that ONNX infers from
the graph must be lamina's, (N, <output shape>) with N symbolic. Exits 77
(ctest: skipped), saying so, where python3-onnx is not installed.
"""
import json
import sys

try:
    import onnx
except ImportError:
    print("skipped: the ONNX checker needs python3-onnx (Debian: apt-get install python3-onnx; "
          "scripts/install-deps.sh --with-onnx)")
    sys.exit(77)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def main():
    directory = sys.argv[1]
    with open(f"{directory}/manifest.json") as f:
        entries = json.load(f)
    failures = 0
    for entry in entries:
        name = entry["name"]
        path = f"{directory}/{name}.onnx"
        model = onnx.load(path)
        try:
            onnx.checker.check_model(model, full_check=True)
            inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
            want = ["N"] + entry["output_shape"][1:]
            got = dims(inferred.graph.output[0])
            if got != want:
                raise ValueError(f"the graph's output is {got}, lamina's is {want}")
            # Every intermediate tensor gets a shape too: no node left unknown.
            unknown = [v.name for v in inferred.graph.value_info if not v.type.tensor_type.HasField("shape")]
            if unknown:
                raise ValueError(f"no inferred shape for {unknown}")
        except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, ValueError) as e:
            print(f"FAIL {name}: {e}")
            failures += 1
            continue
        ops = sorted({n.op_type for n in model.graph.node})
        print(f"ok   {name}: IR {model.ir_version}, opset {model.opset_import[0].version}, "
              f"{len(model.graph.node)} nodes ({', '.join(ops)}), output {got}")
    print(f"{len(entries) - failures} of {len(entries)} models pass onnx.checker (onnx {onnx.__version__})")
    return 1 if failures or not entries else 0


if __name__ == "__main__":
    sys.exit(main())
