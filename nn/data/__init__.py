"""Data loading, like torch.utils.data and torchvision.datasets.MNIST: datasets, ways to
select, join and split them, and `DataLoader` (batches, shuffling under `ad.manual_seed`,
worker processes).

    torch.utils.data                  nn.data
    ------------------------------    ------------------------------
    Dataset                           Dataset (a + b joins two)
    TensorDataset                     TensorDataset
    Subset                            Subset
    ConcatDataset                     ConcatDataset
    random_split                      random_split (same lengths rule; other samples
                                      than torch's for one seed: another generator)
    DataLoader                        DataLoader
    default_collate                   default_collate
    get_worker_info                   get_worker_info
    _utils.worker.WorkerInfo          WorkerInfo
    torchvision.datasets.MNIST        MNIST

Not here: samplers (Sampler, RandomSampler, BatchSampler, ...: use shuffle=True),
IterableDataset and ChainDataset, StackDataset, default_convert, DistributedSampler.
"""
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader, WorkerInfo, default_collate, get_worker_info
from .mnist import MNIST, DatasetError

__all__ = ["MNIST", "ConcatDataset", "DataLoader", "Dataset", "DatasetError", "Subset",
           "TensorDataset", "WorkerInfo", "default_collate", "get_worker_info",
           "random_split"]
