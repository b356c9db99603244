"""Per-row output the way a numpy user writes it: the loadtxt script, then numpy.savetxt of every row.

Writes the same values and columns as ``slopecli compute FILE -w W --format csv``: preds, error,
slope_<feature> per row (numpy's default format, ``%.18e``, which round-trips every float64).

Usage: python savetxt_script.py FILE W1,W2,... OUT.csv
"""

import sys

import numpy as np

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
X, y = data[:, :-1], data[:, -1]
w = np.array(sys.argv[2].split(","), dtype=float)
preds = X @ w
err = preds - y
names = ["preds", "error", *(f"slope_x{i + 1}" for i in range(X.shape[1]))]
rows = np.column_stack([preds, err, 2 * X * err[:, None]])
np.savetxt(sys.argv[3], rows, delimiter=",", header=",".join(names), comments="")
