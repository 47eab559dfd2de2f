#!/usr/bin/env python3
"""Ridge regression on the diabetes data with the Python standard library only (Python >= 3.8).

train.mjs is the same program in Node: same arguments, same split, same arithmetic in the same
order, same outputs. Keep the two in step; the e2e test checks they agree to 1e-9.

Why the code looks the way it does:
- the shuffle uses mulberry32, written out here, not `random`, so Node can reproduce it;
- sums are plain loops, never sum() or math.fsum(): Python 3.12 made sum() of floats compensated,
  and the result would then depend on the Python version and differ from Node;
- numbers are parsed only when they look like decimal numbers, because float() and Number()
  disagree on the rest ('inf', '1_0', '0x10', '').
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
import urllib.error
import urllib.request

TARGET = "target"
UINT32 = 0xFFFFFFFF
# rmse_by_log_alpha step s is the fit with alpha * 10^(s - 3). Literals, not 10 ** k: pow() may
# round differently in Python and Node.
ALPHA_PATH_MULTIPLIERS = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")


class UsageError(Exception):
    """A bad argument or input file: exit status 2."""


class TrainError(Exception):
    """Training or logging failed: exit status 1."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fit ridge regression to the diabetes data.")
    parser.add_argument("--training-data", required=True, help="a CSV file, or a folder holding exactly one")
    parser.add_argument("--alpha", default="0.1", help="L2 strength on standardized features (default 0.1)")
    parser.add_argument("--test-size", default="0.2", help="fraction of rows held out (default 0.2)")
    parser.add_argument("--seed", default="42", help="shuffle seed, 0 to 4294967295 (default 42)")
    parser.add_argument("--model-output", required=True, help="folder for model.json and metrics.json")
    return parser.parse_args(argv)


def parse_number(text: str, what: str) -> float:
    value = text.strip()
    if not DECIMAL.match(value):
        raise UsageError(f"{what}: expected a decimal number, found {text!r}")
    return float(value)


def check_options(args: argparse.Namespace) -> tuple[float, float, int]:
    alpha = parse_number(args.alpha, "--alpha")
    if not alpha >= 0 or math.isinf(alpha):
        raise UsageError(f"--alpha: expected a finite number >= 0, found {args.alpha!r}")
    test_size = parse_number(args.test_size, "--test-size")
    if not 0 < test_size < 1:
        raise UsageError(f"--test-size: expected a fraction between 0 and 1, found {args.test_size!r}")
    seed_text = args.seed.strip()
    if not re.match(r"^[0-9]+$", seed_text) or int(seed_text) > UINT32:
        raise UsageError(f"--seed: expected an integer from 0 to 4294967295, found {args.seed!r}")
    return alpha, test_size, int(seed_text)


def find_csv(path: str) -> str:
    if os.path.isfile(path):
        return path
    if not os.path.isdir(path):
        raise UsageError(f"--training-data: {path} does not exist")
    names = sorted(os.listdir(path))
    csvs = [n for n in names if n.lower().endswith(".csv") and os.path.isfile(os.path.join(path, n))]
    if len(csvs) != 1:
        found = ", ".join(names) if names else "nothing"
        raise UsageError(
            f"--training-data: the folder {path} must hold exactly one .csv file; it holds {found}. "
            "Pass the file itself."
        )
    return os.path.join(path, csvs[0])


def split_line(line: str) -> list[str]:
    cells = []
    for cell in line.split(","):
        cell = cell.strip()
        if len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"':
            cell = cell[1:-1]
        cells.append(cell)
    return cells


def read_table(path: str) -> tuple[list[str], list[list[float]], list[float]]:
    """A plain numeric CSV: a header row, commas, no quoted commas. Returns features, X and y."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = re.split(r"\r\n|\r|\n", f.read())
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip() != ""]
    if not numbered:
        raise UsageError(f"{path}: the file is empty")
    header = split_line(numbered[0][1])
    if len(set(header)) != len(header):
        raise UsageError(f"{path}: the header repeats a column name: {', '.join(header)}")
    if TARGET not in header:
        raise UsageError(f"{path}: no column named {TARGET!r}; the columns are {', '.join(header)}")
    target_at = header.index(TARGET)
    features = [name for name in header if name != TARGET]
    xs: list[list[float]] = []
    ys: list[float] = []
    for line_no, line in numbered[1:]:
        cells = split_line(line)
        if len(cells) != len(header):
            raise UsageError(f"{path} line {line_no}: {len(cells)} values, expected {len(header)}")
        row = []
        for j, cell in enumerate(cells):
            if not DECIMAL.match(cell):
                raise UsageError(f"{path} line {line_no}, column {header[j]}: expected a number, found {cell!r}")
            if j == target_at:
                ys.append(float(cell))
            else:
                row.append(float(cell))
        xs.append(row)
    return features, xs, ys


def mulberry32(seed: int):
    """Tommy Ettinger's mulberry32: 32-bit state, one uint32 per call, as in train.mjs."""
    state = seed & UINT32

    def next_uint32() -> int:
        nonlocal state
        state = (state + 0x6D2B79F5) & UINT32
        t = ((state ^ (state >> 15)) * (state | 1)) & UINT32
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & UINT32)) & UINT32) ^ t
        return (t ^ (t >> 14)) & UINT32

    return next_uint32


def split_rows(n: int, test_size: float, seed: int) -> tuple[list[int], list[int]]:
    """Fisher-Yates shuffle of the row indices; the first ceil(test_size * n) are the test rows."""
    order = list(range(n))
    next_uint32 = mulberry32(seed)
    for i in range(n - 1, 0, -1):
        j = next_uint32() % (i + 1)
        order[i], order[j] = order[j], order[i]
    n_test = math.ceil(test_size * n)
    if n_test < 1 or n - n_test < 2:
        raise UsageError(f"--test-size {test_size} leaves {n - n_test} training and {n_test} test rows of {n}")
    return order[n_test:], order[:n_test]


def standardizer(xs: list[list[float]]) -> tuple[list[float], list[float]]:
    """Means and population standard deviations per column (a constant column gets scale 1)."""
    n = len(xs)
    p = len(xs[0])
    means = []
    scales = []
    for j in range(p):
        s = 0.0
        for row in xs:
            s += row[j]
        mean = s / n
        ss = 0.0
        for row in xs:
            d = row[j] - mean
            ss += d * d
        scale = math.sqrt(ss / n)
        means.append(mean)
        scales.append(scale if scale > 0 else 1.0)
    return means, scales


def standardize(xs: list[list[float]], means: list[float], scales: list[float]) -> list[list[float]]:
    return [[(row[j] - means[j]) / scales[j] for j in range(len(means))] for row in xs]


def cholesky_solve(a: list[list[float]], b: list[float]) -> list[float]:
    p = len(b)
    lower = [[0.0] * p for _ in range(p)]
    for j in range(p):
        s = a[j][j]
        for k in range(j):
            s -= lower[j][k] * lower[j][k]
        if not s > 0:
            raise TrainError("XᵀX + αI is not positive definite (collinear features?); use a larger --alpha")
        lower[j][j] = math.sqrt(s)
        for i in range(j + 1, p):
            s = a[i][j]
            for k in range(j):
                s -= lower[i][k] * lower[j][k]
            lower[i][j] = s / lower[j][j]
    z = [0.0] * p
    for i in range(p):
        s = b[i]
        for k in range(i):
            s -= lower[i][k] * z[k]
        z[i] = s / lower[i][i]
    w = [0.0] * p
    for i in range(p - 1, -1, -1):
        s = z[i]
        for k in range(i + 1, p):
            s -= lower[k][i] * w[k]
        w[i] = s / lower[i][i]
    return w


def fit_ridge(zs: list[list[float]], ys: list[float], alpha: float) -> tuple[list[float], float]:
    """Solves (ZᵀZ + αI)w = Zᵀ(y - ȳ) on standardized Z; the intercept ȳ is not penalized."""
    n = len(ys)
    p = len(zs[0])
    y_sum = 0.0
    for y in ys:
        y_sum += y
    y_mean = y_sum / n
    gram = [[0.0] * p for _ in range(p)]
    rhs = [0.0] * p
    for i in range(n):
        row = zs[i]
        r = ys[i] - y_mean
        for j in range(p):
            zj = row[j]
            rhs[j] += zj * r
            for k in range(j + 1):
                gram[j][k] += zj * row[k]
    for j in range(p):
        for k in range(j):
            gram[k][j] = gram[j][k]
        gram[j][j] += alpha
    return cholesky_solve(gram, rhs), y_mean


def predict(zs: list[list[float]], w: list[float], intercept: float) -> list[float]:
    out = []
    for row in zs:
        s = intercept
        for j in range(len(w)):
            s += w[j] * row[j]
        out.append(s)
    return out


def regression_metrics(ys: list[float], preds: list[float]) -> dict[str, float]:
    n = len(ys)
    sse = 0.0
    sae = 0.0
    y_sum = 0.0
    for i in range(n):
        e = ys[i] - preds[i]
        sse += e * e
        sae += abs(e)
        y_sum += ys[i]
    y_mean = y_sum / n
    sst = 0.0
    for y in ys:
        d = y - y_mean
        sst += d * d
    return {
        "rmse": math.sqrt(sse / n),
        "mae": sae / n,
        "r2": 1.0 - sse / sst if sst > 0 else math.nan,
    }


def finite_or_none(value: float):
    return value if math.isfinite(value) else None


def to_proto_number(value: float):
    """MLflow's proto3 JSON writes NaN and infinities as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def write_json(path: str, obj: object) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, allow_nan=False)
        f.write("\n")


def log_to_mlflow(params: list[tuple[str, str]], metrics: list[tuple[str, float, int]]) -> None:
    """POSTs one runs/log-batch when MLFLOW_TRACKING_URI and MLFLOW_RUN_ID are set (as in a job)."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    run_id = os.environ.get("MLFLOW_RUN_ID", "").strip()
    if not uri or not run_id:
        print("mlflow: MLFLOW_TRACKING_URI and MLFLOW_RUN_ID are not both set; not logging", flush=True)
        return
    if not uri.startswith(("http://", "https://")):
        print(f"mlflow: the tracking URI {uri} is not http(s); not logging", flush=True)
        return
    url = uri.rstrip("/") + "/api/2.0/mlflow/runs/log-batch"
    timestamp = int(time.time() * 1000)
    body = {
        "run_id": run_id,
        "params": [{"key": k, "value": v} for k, v in params],
        "metrics": [
            {"key": k, "value": to_proto_number(v), "timestamp": timestamp, "step": step} for k, v, step in metrics
        ],
    }
    headers = {"Content-Type": "application/json"}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN", "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(text)
            message = f"{parsed.get('error_code', 'ERROR')}: {parsed.get('message', text)}"
        except (ValueError, AttributeError):
            message = text.strip() or error.reason
        raise TrainError(f"mlflow: runs/log-batch to {url} failed with HTTP {error.code}: {message}") from None
    except urllib.error.URLError as error:
        raise TrainError(f"mlflow: cannot reach {url}: {error.reason}") from None
    print(f"mlflow: logged {len(params)} params and {len(metrics)} metric values to run {run_id}", flush=True)


def train(args: argparse.Namespace) -> None:
    alpha, test_size, seed = check_options(args)
    print(f"diabetes ridge regression, Python {sys.version.split()[0]}", flush=True)
    csv_path = find_csv(args.training_data)
    features, xs, ys = read_table(csv_path)
    if len(ys) < 3:
        raise UsageError(f"{csv_path}: {len(ys)} data rows; at least 3 are needed")
    print(f"read {len(ys)} rows, {len(features)} features + {TARGET} from {csv_path}", flush=True)

    train_rows, test_rows = split_rows(len(ys), test_size, seed)
    x_train = [xs[i] for i in train_rows]
    y_train = [ys[i] for i in train_rows]
    x_test = [xs[i] for i in test_rows]
    y_test = [ys[i] for i in test_rows]
    print(
        f"split: {len(train_rows)} train / {len(test_rows)} test rows (seed {seed}, test size {test_size})",
        flush=True,
    )

    means, scales = standardizer(x_train)
    z_train = standardize(x_train, means, scales)
    z_test = standardize(x_test, means, scales)

    w, intercept = fit_ridge(z_train, y_train, alpha)
    train_rmse = regression_metrics(y_train, predict(z_train, w, intercept))["rmse"]
    test = regression_metrics(y_test, predict(z_test, w, intercept))
    metrics = {"rmse": test["rmse"], "mae": test["mae"], "r2": test["r2"], "train_rmse": train_rmse}
    print(f"fit alpha={alpha}: train rmse {train_rmse:.4f}", flush=True)
    print(f"test: rmse {test['rmse']:.4f}, mae {test['mae']:.4f}, r2 {test['r2']:.4f}", flush=True)

    path = []
    for step, multiplier in enumerate(ALPHA_PATH_MULTIPLIERS):
        a = alpha * multiplier
        wa, ia = fit_ridge(z_train, y_train, a)
        rmse = regression_metrics(y_test, predict(z_test, wa, ia))["rmse"]
        path.append({"step": step, "alpha": a, "rmse": rmse})
        print(f"alpha path {step}: alpha={a:g} test rmse {rmse:.4f}", flush=True)

    os.makedirs(args.model_output, exist_ok=True)
    model = {
        "model": "ridge_regression",
        "target": TARGET,
        "features": features,
        "means": means,
        "scales": scales,
        "coefficients": w,
        "intercept": intercept,
        "alpha": alpha,
        "prediction": "intercept + sum over j of coefficients[j] * (x[j] - means[j]) / scales[j]",
        "split": {"seed": seed, "test_size": test_size, "n_train": len(train_rows), "n_test": len(test_rows)},
        "metrics": {k: finite_or_none(v) for k, v in metrics.items()},
    }
    write_json(os.path.join(args.model_output, "model.json"), model)
    write_json(
        os.path.join(args.model_output, "metrics.json"),
        {
            **{k: finite_or_none(v) for k, v in metrics.items()},
            "rmse_by_log_alpha": [{**p, "rmse": finite_or_none(p["rmse"])} for p in path],
        },
    )
    print(f"wrote model.json and metrics.json to {args.model_output}", flush=True)

    params = [
        ("alpha", args.alpha.strip()),
        ("test_size", args.test_size.strip()),
        ("seed", str(seed)),
        ("n_train", str(len(train_rows))),
        ("n_test", str(len(test_rows))),
    ]
    logged = [(k, v, 0) for k, v in metrics.items()]
    logged += [("rmse_by_log_alpha", p["rmse"], p["step"]) for p in path]
    log_to_mlflow(params, logged)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        train(args)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    except (TrainError, OSError) as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
