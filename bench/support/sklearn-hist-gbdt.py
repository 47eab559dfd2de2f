"""The scikit-learn baseline of bench/gbdt.ts: HistGradientBoostingClassifier on the same rows and cores.

Usage: python3 sklearn-hist-gbdt.py CSV TARGET TRAIN_ROWS USED_TRAIN_ROWS THREADS

Loads the CSV (the first TRAIN_ROWS rows train, of which the first USED_TRAIN_ROWS are used; the rest is
the holdout), prints one JSON line {"ready": ...}, then answers every "fit" line on stdin with one JSON
line: fit seconds, predict_proba seconds per 100k rows and holdout AUC. The bench drives it line by line
so that its fits interleave with Tessera's. Settings: 100 trees, learning rate 0.1, 31 leaves, 255 bins,
no early stopping, the library's other defaults (min_samples_leaf 20, l2 0).
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits


def main():
    path, target, train_rows, used_rows, threads = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
    threadpool_limits(threads)
    df = pd.read_csv(path)
    features = [c for c in df.columns if c != target]
    X = df[features].to_numpy(dtype=np.float64)
    y = df[target].to_numpy()
    X_tr, y_tr, X_te, y_te = X[:used_rows], y[:used_rows], X[train_rows:], y[train_rows:]
    print(json.dumps({"ready": True, "sklearn": sklearn.__version__, "train_rows": len(X_tr),
                      "test_rows": len(X_te)}), flush=True)
    for line in sys.stdin:
        if line.strip() != "fit":
            continue
        model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31, max_bins=255,
                                               early_stopping=False, random_state=0)
        t0 = time.perf_counter()
        model.fit(X_tr, y_tr)
        fit_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        proba = model.predict_proba(X_te)[:, 1]
        predict_seconds = (time.perf_counter() - t0) * 100_000 / len(X_te)
        print(json.dumps({"fitSeconds": fit_seconds, "predictSecondsPer100k": predict_seconds,
                          "auc": roc_auc_score(y_te, proba)}), flush=True)


if __name__ == "__main__":
    main()
