"""Data loading, like torch.utils.data and torchvision.datasets.MNIST: `Dataset`,
`TensorDataset`, `DataLoader` (batches, shuffling under `ad.manual_seed`) and `MNIST`."""
from .dataset import Dataset, TensorDataset
from .loader import DataLoader, default_collate
from .mnist import MNIST, DatasetError

__all__ = ["MNIST", "DataLoader", "Dataset", "DatasetError", "TensorDataset", "default_collate"]
