"""nn: neural-network modules, losses, init and data on top of autodiff (mirrors torch.nn)."""
