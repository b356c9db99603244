"""The script a pandas user writes: pandas.read_csv on the whole file, then the formula in numpy.

Usage: python pandas_script.py FILE W1,W2,...   (FILE: CSV with a header and a ``target`` column)
"""

import json
import sys

import numpy as np
import pandas as pd

df = pd.read_csv(sys.argv[1])
X, y = df.drop(columns="target").to_numpy(), df["target"].to_numpy()
w = np.array(sys.argv[2].split(","), dtype=float)
err = X @ w - y
gradient = 2 / len(y) * (X.T @ err)
print(json.dumps({"n": len(y), "gradient": gradient.tolist(), "mse": float(err @ err) / len(y)}))
