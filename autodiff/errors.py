"""The exceptions autodiff raises. Each message names the operation, the shapes or
values involved, and what to do about it."""


class AutodiffError(Exception):
    """Base class of every error autodiff raises on purpose."""


class ShapeError(AutodiffError, ValueError, RuntimeError):
    """Shapes that do not broadcast, multiply or fit the operation (torch raises
    RuntimeError for these, numpy ValueError: it is both)."""


class DimError(ShapeError, IndexError):
    """A dim out of range for the tensor's number of dimensions (torch's IndexError)."""


class DtypeError(AutodiffError, TypeError, RuntimeError):
    """A dtype the operation cannot work with (e.g. an int tensor asked to require grad;
    torch raises RuntimeError)."""


class DomainError(AutodiffError, ValueError, RuntimeError):
    """An input value outside the values the operation is defined for (a probability
    outside [0, 1])."""


class BackwardError(AutodiffError, RuntimeError):
    """backward() or grad() cannot run: non-scalar output, freed graph, no grad to follow."""


class InPlaceError(AutodiffError, RuntimeError):
    """An in-place change to a tensor that autograd is tracking."""


class AnomalyError(AutodiffError, FloatingPointError, RuntimeError):
    """Under detect_anomaly(): an op produced NaN or inf."""


class GradcheckError(AutodiffError, AssertionError, RuntimeError):
    """gradcheck found an analytical gradient that disagrees with finite differences."""


class ModelFileError(AutodiffError, ValueError):
    """A tensor file (model weights, optimizer state) or an architecture that cannot be
    trusted or does not fit: truncated, tampered with, pickled, naming a class that is not
    nn's own, or of another model."""


class CompileError(AutodiffError, RuntimeError):
    """ad.compile(fullgraph=True) met something a replay cannot follow, or a replay found
    the world changed in a way its guards cannot repair."""


class CompileWarning(UserWarning):
    """ad.compile fell back to running a function eagerly; the message says why and where."""
