"""The one exception hierarchy of slopecli.

The library raises these; only the command line turns them into a message and an exit code.
Every message names what is wrong and where (flag, file, line, column), so it can stand alone
on one line of stderr.
"""


class SlopeError(Exception):
    """Base class: the inputs are wrong in a way the user can fix."""

    exit_code = 1


class InputError(SlopeError):
    """A value given on the command line or in a file is malformed (not a number, wrong count)."""


class DataError(SlopeError):
    """A data file cannot be read as the table slopecli expects (ragged rows, missing column)."""


class NumericError(SlopeError):
    """A value or a result is not finite (NaN, infinity, overflow)."""


class DivergedError(NumericError):
    """Gradient descent moved away from the minimum: the learning rate is too large."""


class CheckFailed(SlopeError):
    """The analytic gradient and the finite differences disagree (``slopecli check``)."""

    exit_code = 3


class OutputExists(SlopeError):
    """The output file exists and overwriting was not asked for."""


class RunEnded(SlopeError):
    """The process that started this run is gone: nothing may be published for it any more."""


class UsageError(SlopeError):
    """The command line asks for something slopecli cannot do: flags that conflict or do not apply."""

    exit_code = 2
