"""autodiff: a small, fast, honest automatic-differentiation engine on numpy.

    import autodiff as ad
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ x.T).tanh().sum()
    y.backward()            # x.grad now holds dy/dx
"""
import warnings as _warnings  # noqa: I001 (Tensor is imported first: the op modules need the class)


from .tensor import Tensor as Tensor
# The modules that register Tensor's methods, each in one block (see autodiff/tensor.py):
from . import operators as _operators, inplace as _inplace, conversions as _conversions
from . import method_aliases as _method_aliases
from .ops import (elementwise as _elementwise, reduce as _reduce, shape as _shape,
                  softmax as _softmax, math_functions as _math_functions,
                  rearrange as _rearrange)
from . import viz as viz
from . import autograd as autograd, func as func
from .backward import grad
from .jit import compile
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full,
                       full_like, linspace, logspace, multinomial, normal, ones, ones_like, rand,
                       rand_like, randint, randint_like, randn, randn_like, randperm, tensor,
                       zeros, zeros_like)
from .errors import (AnomalyError, AutodiffError, BackwardError, CompileError, CompileWarning,
                     DimError, DomainError, DtypeError, GradcheckError, InPlaceError,
                     ShapeError)
from .function import Function
from .functional import (all, any, clamp_, clone, detach, dropout, fill_, kl_div, layer_norm,
                         numel, t, zero_)
from .functional import (abs, add, amax, amin, argmax, argmin, avg_pool2d,
                         broadcast_to, cat, clamp, clip, concat, concatenate, conv2d, div, eq, exp,
                         expand, flatten, fold, gt, leaky_relu, log, log_softmax, logsumexp, lt,
                         matmul, max, max_pool2d, maximum, mean, min, minimum, mul, neg, norm,
                         permute, pow, prod, relu, reshape, sigmoid, softmax, sqrt, squeeze,
                         stack, std, sub, sum, tanh, transpose, unfold, unsqueeze, var, where)
from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_grad_enabled, no_grad,
                        set_grad_enabled)
from .device import DeviceError, backends, cuda, device
from .dtypes import (bool, double, float, float16, float32, float64, get_default_dtype, half,
                     int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .functional import ge, greater, greater_equal, le, less, less_equal, ne, not_equal
from .method_aliases import (addmm, allclose, baddbmm, bitwise_and, bitwise_not, bitwise_or,
                             bitwise_xor, bmm, count_nonzero, dot, equal, index_add, isclose,
                             kron, logical_and, logical_not, logical_or, logical_xor, mm, mv,
                             narrow, nonzero, select, std_mean, unique, var_mean)
from .ops.linalg import cdist, det, logdet, slogdet
from .ops.matmul import inverse
from .ops.math_functions import (acos, acosh, asin, asinh, atan, atan2, atanh,
                                 bitwise_left_shift, bitwise_right_shift, ceil, copysign, cos,
                                 cosh, erf, erfinv, exp2, expm1, floor, floor_divide, fmod, frac,
                                 isfinite, isinf, isnan, lerp, log1p, log2, log10, logaddexp, logit,
                                 nan_to_num, reciprocal, remainder, round, rsqrt, sign, sin,
                                 sinh, square, tan, trunc)
from .ops.rearrange import (argsort, chunk, cross, cummax, cummin, cumprod, cumsum, diag,
                            diag_embed, diagonal, einsum, flip, gather, index_select, kthvalue,
                            logcumsumexp, masked_fill, masked_select, median, meshgrid, movedim,
                            outer, quantile, repeat, repeat_interleave, roll, rot90, scatter,
                            scatter_add, scatter_reduce, searchsorted, sort, split,
                            take_along_dim, tensor_split, tensordot, tile, topk, trace, tril,
                            triu, unbind, unflatten)
from .backward_trace import BackwardTrace, trace_backward
from .gradcheck import gradcheck, gradcheck_graph, gradgradcheck
from .manual_grads import ManualGradReport, check_manual_grads
from .promotion import promote_types, result_type
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from ._optional import MissingDependencyError

# inf and NaN results are silent, as in PyTorch (ad.detect_anomaly() names the op that made
# them): numpy's floating-point RuntimeWarnings are ignored when they come from autodiff's
# own modules. Appended, so a user's own filters (-W error) still win; a user's own numpy
# code still warns. Costs nothing per op: filters are only consulted when numpy warns.
_warnings.filterwarnings("ignore", r"(divide by zero|invalid value|overflow|underflow) "
                         r"encountered", RuntimeWarning, r"autodiff(\.|$)", append=True)

__version__ = "0.1.0"
