"""nn.utils: gradient clipping, flat-vector views of parameters, and padding of
variable-length sequences (`nn.utils.rnn.pad_sequence`) (torch.nn.utils's names); and
`Monitor`, which records per layer and step how activations, gradients and updates are
distributed (saturated or dead units, vanishing gradients), with `MonitorWarning`.
Reparametrizations: `parametrize` (register_parametrization and the rest),
`parametrizations` (weight_norm, spectral_norm), and the older hook-based
`weight_norm`/`remove_weight_norm` and `spectral_norm`/`remove_spectral_norm`.
`stateless.functional_call` runs a module with given parameters and buffers
(torch.func.functional_call).

>>> import autodiff as ad, nn
>>> model = nn.Linear(3, 2)
>>> nn.utils.parameters_to_vector(model.parameters()).shape
(8,)
"""
from . import parametrizations, parametrize, rnn, stateless
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .monitor import Monitor, MonitorWarning
from .spectral_norm import remove_spectral_norm, spectral_norm
from .weight_norm import remove_weight_norm, weight_norm
