"""The script a user writes without slopecli: numpy.loadtxt on the whole file, then the formula.

Usage: python loadtxt_script.py FILE W1,W2,...   (FILE: CSV with a header, target in the last column)
"""

import json
import sys

import numpy as np

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
X, y = data[:, :-1], data[:, -1]
w = np.array(sys.argv[2].split(","), dtype=float)
err = X @ w - y
gradient = 2 / len(y) * (X.T @ err)
print(json.dumps({"n": len(y), "gradient": gradient.tolist(), "mse": float(err @ err) / len(y)}))
