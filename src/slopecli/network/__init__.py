"""Networks: forward propagation and backpropagation through small layered models.

:mod:`~slopecli.network.model` reads and writes the network file, :mod:`~slopecli.network.core`
holds the pure math and its mergeable reducer, :mod:`~slopecli.network.data` pairs a network with
its rows, :mod:`~slopecli.network.train` makes the passes (sums, step, descent), and
:mod:`~slopecli.network.check` checks the gradient against central differences.
"""
