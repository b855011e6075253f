"""optim: optimizers and learning-rate schedules (mirrors torch.optim)."""
