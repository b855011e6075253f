"""optim: optimizers and learning-rate schedules (mirrors torch.optim).

    opt = optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()
    optim.save_state(opt, "adam.safetensors")      # resume later with optim.load_state

The learning-rate schedules are where PyTorch keeps them, in `optim.lr_scheduler`
(`StepLR`, `CosineAnnealingLR`, ..., and `SequentialLR` / `ChainedScheduler` to combine
them): `optim.lr_scheduler.SequentialLR` as `torch.optim.lr_scheduler.SequentialLR`.

Each optimizer's docstring gives its update as an algorithm box and in the lecture notes'
notation (SEEDS.md 002), and says why the two agree.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .serialization import load_state, save_state
from .sgd import SGD

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW",
           "Adamax", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "load_state",
           "lr_scheduler", "save_state"]
