"""Hostile sample: it looks for other gradings' outputs (results JSON with the class's hidden seed,
seed.json, other students' reports and sandboxes) anywhere it can read, and reports what it found."""
import os


def _walk(root, budget=20000):
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("proc", "sys")]
        for name in files:
            budget -= 1
            if budget <= 0:
                return found
            if name in ("seed.json", "results.json", "gradescope.json", "gradebook.csv") or name.startswith(
                    "hw3sandbox-"):
                found.append(os.path.join(folder, name))
        found += [os.path.join(folder, d) for d in dirs if d.startswith(("hw3sandbox-", ".grading-", "hw3grade-"))]
    return found


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    own = os.path.dirname(os.getcwd())
    found = [path for path in _walk("/") if not path.startswith(own)]
    raise RuntimeError(f"other gradings' files found: {found[:20]}")


def dense_params(in_features, units):
    return in_features * units + units
