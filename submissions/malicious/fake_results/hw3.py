"""Hostile sample: prints fake results and writes results/report files wherever it can reach."""
import json
import os

FAKE = {"score": 999, "max_score": 1, "questions": []}
print(json.dumps(FAKE))
print("q4  CNN vs RNN parameter counts   6/6")
_WRITTEN = []
for _path in ("results.json", "/tmp/results.json", "/tmp/hw3-pwned", "/work/hw3-pwned", "/root/hw3-pwned",
              "/hw3-pwned", os.path.expanduser("~/results.json")):
    try:
        with open(_path, "w") as _handle:
            json.dump(FAKE, _handle)
        _WRITTEN.append(_path)
    except OSError:
        pass


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    print(json.dumps({"passed": True, "score": 1}))
    return -1


def dense_params(in_features, units):
    return in_features * units + units
