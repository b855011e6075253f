"""nn.utils: gradient clipping and flat-vector views of parameters (torch.nn.utils's
names).

>>> import autodiff as ad, nn
>>> model = nn.Linear(3, 2)
>>> nn.utils.parameters_to_vector(model.parameters()).shape
(8,)
"""
from .clip_grad import clip_grad_norm_, clip_grad_value_
from .convert_parameters import parameters_to_vector, vector_to_parameters
