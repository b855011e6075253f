"""nn.data: Dataset, TensorDataset, Subset, ConcatDataset, random_split, get_worker_info,
DataLoader (batching, drop_last, seeded shuffling, the fast path) and MNIST (search order,
checksums, IDX parsing, corrupt files, downloads from fake mirrors: these tests never touch
the internet)."""
from __future__ import annotations

import functools
import gzip
import http.server
import os
import re
import shutil
import struct
import sys
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
from nn.data import (
    MNIST,
    ConcatDataset,
    DataLoader,
    Dataset,
    DatasetError,
    Subset,
    TensorDataset,
    WorkerInfo,
    default_collate,
    get_worker_info,
    random_split,
)
from nn.data import mnist as mnist_module

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(scope="module")
def shared_data() -> Path:
    """The folder holding mnist/: $AUTODIFF_DATA, else ../shared/data beside the repo."""
    default = Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = Path(os.environ.get("AUTODIFF_DATA") or default)
    if not (folder / "mnist" / TEST_FILES[0]).is_file():
        pytest.skip(f"MNIST files not found in {folder}/mnist")
    return folder


@pytest.fixture
def no_data_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $AUTODIFF_DATA and an empty home, so only root and downloads can find files."""
    monkeypatch.delenv("AUTODIFF_DATA", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


class Squares(Dataset):
    """A dataset without get_batch: the loader must read it sample by sample."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[ad.Tensor, int]:
        return ad.tensor([float(i), float(i * i)]), i


# ------------------------------------------------------------------ datasets and loader

def test_tensor_dataset_items_and_length() -> None:
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    data = TensorDataset(x, ad.arange(6))
    assert len(data) == 6
    row, label = data[4]
    np.testing.assert_array_equal(row.numpy(), [8.0, 9.0])
    assert row.dtype == np.float64 and int(label.item()) == 4


def test_tensor_dataset_rejects_mismatched_or_missing_tensors() -> None:
    with pytest.raises(ad.ShapeError, match=r"\(5, 2\).*\(4,\)"):
        TensorDataset(ad.zeros(5, 2), ad.zeros(4))
    with pytest.raises(ad.ShapeError, match="dimension 0"):
        TensorDataset(ad.tensor(3.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_base_class_asks_for_the_methods() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_loader_in_order_batches_and_drop_last() -> None:
    x = ad.arange(10, dtype=ad.float32).reshape(10, 1)
    y = ad.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(yb.numpy()) for _, yb in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in batches]), x.numpy())
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    kept = list(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True))
    assert [yb.numpy().tolist() for _, yb in kept] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(TensorDataset(x, y), batch_size=4)) == 3
    assert len(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == 2
    assert len(DataLoader(TensorDataset(x, y), batch_size=5, drop_last=True)) == 2


def test_loader_default_batch_size_is_one() -> None:
    batches = list(DataLoader(TensorDataset(ad.arange(3))))
    assert [b.numpy().tolist() for b, in batches] == [[0], [1], [2]]


def test_shuffle_is_a_permutation_reproducible_under_manual_seed() -> None:
    data = TensorDataset(ad.arange(100))
    loader = DataLoader(data, batch_size=7, shuffle=True)

    def epoch() -> list[int]:
        return np.concatenate([b.numpy() for b, in loader]).tolist()

    ad.manual_seed(3)
    first, second = epoch(), epoch()
    ad.manual_seed(3)
    assert epoch() == first and epoch() == second      # same seed, same batches
    assert sorted(first) == list(range(100))           # every sample exactly once
    assert first != second                             # a new order each pass
    assert first != list(range(100))


def test_fast_path_gives_the_same_batches_as_sample_by_sample() -> None:
    n = 23
    fast = TensorDataset(ad.tensor(np.stack([np.arange(n), np.arange(n) ** 2], 1)
                                   .astype(np.float32)), ad.arange(n))
    ad.manual_seed(5)
    fast_batches = list(DataLoader(fast, batch_size=5, shuffle=True))
    ad.manual_seed(5)
    slow_batches = list(DataLoader(Squares(n), batch_size=5, shuffle=True))
    assert len(fast_batches) == len(slow_batches) == 5
    for (fx, fy), (sx, sy) in zip(fast_batches, slow_batches, strict=True):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
        assert fx.dtype == sx.dtype == np.float32 and fy.dtype == sy.dtype == np.int64


def test_default_collate_follows_torch() -> None:
    batch = default_collate([{"x": np.ones(2, np.float32), "n": 1, "w": 0.5, "s": "a"},
                             {"x": np.zeros(2, np.float32), "n": 2, "w": 1.5, "s": "b"}])
    assert batch["x"].shape == (2, 2) and batch["x"].dtype == np.float32
    assert batch["n"].dtype == np.int64 and batch["n"].numpy().tolist() == [1, 2]
    assert batch["w"].dtype == np.float64 and batch["s"] == ["a", "b"]
    flags, scalars = default_collate([(True, np.float32(1)), (False, np.float32(2))])
    assert flags.dtype == np.bool_ and scalars.dtype == np.float32


def test_default_collate_errors_name_the_problem() -> None:
    with pytest.raises(ad.ShapeError, match=r"\(2,\), \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ad.ShapeError, match="numbers of fields"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="object"):
        default_collate([object(), object()])


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, None])
def test_loader_rejects_bad_batch_sizes(bad: object) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(ad.arange(3)), batch_size=bad)


def test_loader_repr() -> None:
    loader = DataLoader(TensorDataset(ad.arange(3)), batch_size=2, shuffle=True)
    assert repr(loader) == ("DataLoader(TensorDataset of 3 samples, batch_size=2, "
                            "shuffle=True, drop_last=False, num_workers=0)")


# ------------------------------------------------------------------ MNIST from disk

def test_mnist_train_from_autodiff_data(shared_data: Path, monkeypatch: pytest.MonkeyPatch,
                                        no_data_env: Path) -> None:
    monkeypatch.setenv("AUTODIFF_DATA", str(shared_data))
    train = MNIST(download=False)
    assert len(train) == 60000
    assert train.data.shape == (60000, 28, 28) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64
    assert np.bincount(train.targets.numpy()).tolist() == TRAIN_COUNTS
    assert train.targets.numpy()[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32 and label == 5
    assert float(image.numpy().min()) == 0.0 and float(image.numpy().max()) == pytest.approx(1.0)
    assert train.folder == shared_data / "mnist"


def test_mnist_test_split_from_root_and_flatten(shared_data: Path, no_data_env: Path) -> None:
    test = MNIST(root=shared_data, train=False, download=False, flatten=True)
    assert len(test) == 10000
    assert np.bincount(test.targets.numpy()).tolist() == TEST_COUNTS
    assert test.targets.numpy()[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    image, label = test[3]
    assert image.shape == (784,) and label == 0
    np.testing.assert_allclose(image.numpy(), test.data.numpy()[3].reshape(784) / np.float32(255),
                               rtol=1e-6)
    assert "test: 10000 images of shape (784,)" in repr(test)


def test_mnist_batches_match_items_and_are_cached(shared_data: Path) -> None:
    test = MNIST(root=shared_data / "mnist", train=False, download=False)
    xb, yb = test.get_batch(np.array([9, 0, 4]))
    assert xb.shape == (3, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    for row, i in enumerate([9, 0, 4]):
        np.testing.assert_array_equal(xb.numpy()[row], test[i][0].numpy())
        assert yb.numpy()[row] == test[i][1]
    again = MNIST(root=shared_data / "mnist", train=False, download=False)
    assert again.data.numpy() is test.data.numpy()          # parsed once per process
    with pytest.raises(ValueError, match="read-only"):
        again.data.numpy()[0, 0, 0] = 1                   # so no instance can spoil the cache


def test_mnist_scaling_matches_torchvision_to_tensor(shared_data: Path) -> None:
    torch = pytest.importorskip("torch")
    test = MNIST(root=shared_data, train=False, download=False)
    xb, _ = next(iter(DataLoader(test, batch_size=64)))
    expected = torch.from_numpy(test.data.numpy()[:64].copy()).float().div(255).unsqueeze(1)
    np.testing.assert_allclose(xb.numpy(), expected.numpy(), rtol=1e-6)


def _copy_test_split(shared_data: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        shutil.copyfile(shared_data / "mnist" / name, folder / name)
    return folder


def test_mnist_corrupt_copies_are_reported_by_name(shared_data: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # a good copy is reachable through $AUTODIFF_DATA: the bad one in root must still be
    # reported, never skipped over or half-used
    monkeypatch.setenv("AUTODIFF_DATA", str(shared_data))
    images = _copy_test_split(shared_data, tmp_path / "flipped") / TEST_FILES[0]
    raw = bytearray(images.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    images.write_bytes(bytes(raw))
    with pytest.raises(DatasetError,
                       match=re.escape(f"{images}: corrupt or truncated") + ".*delete or replace"):
        MNIST(root=tmp_path / "flipped", train=False, download=False)

    images = _copy_test_split(shared_data, tmp_path / "truncated") / TEST_FILES[0]
    images.write_bytes(images.read_bytes()[:100000])
    with pytest.raises(DatasetError, match=re.escape(f"{images}: corrupt or truncated")):
        MNIST(root=tmp_path / "truncated", train=False)

    labels = _copy_test_split(shared_data, tmp_path / "relabelled") / TEST_FILES[1]
    content = bytearray(gzip.decompress(labels.read_bytes()))
    content[8] = (content[8] + 1) % 10                 # a well-formed file with one wrong label
    labels.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DatasetError, match=re.escape(f"{labels}: corrupt MNIST file: the md5")
                       + ".*expected 27ae3e4e09519cfbb04c329615203637"):
        MNIST(root=tmp_path / "relabelled", train=False)


def test_mnist_reads_uncompressed_files_and_checks_them(shared_data: Path, tmp_path: Path,
                                                        no_data_env: Path) -> None:
    for name in TEST_FILES:
        content = gzip.decompress((shared_data / "mnist" / name).read_bytes())
        (tmp_path / name.removesuffix(".gz")).write_bytes(content)
    test = MNIST(root=tmp_path, train=False, download=False)
    assert test.targets.numpy()[:3].tolist() == [7, 2, 1]
    plain = tmp_path / "t10k-labels-idx1-ubyte"
    plain.write_bytes(plain.read_bytes()[:-1])
    with pytest.raises(DatasetError, match=re.escape(f"{plain}: corrupt MNIST file")):
        MNIST(root=tmp_path, train=False, download=False)


def test_mnist_missing_without_download_lists_where_it_looked(tmp_path: Path,
                                                              no_data_env: Path) -> None:
    with pytest.raises(DatasetError, match=r"t10k-images-idx3-ubyte.gz found in none of.*"
                                           r"\.cache/autodiff/mnist.*download=True"):
        MNIST(root=tmp_path, train=False, download=False)


@pytest.mark.parametrize("content, message", [
    (bytes([0, 0, 8, 1, 0, 0]), "truncated IDX file: 6 bytes"),
    (bytes([0, 0, 8, 3, 0, 0, 0, 2, 1, 2]), "magic number 0x0803, expected 0x0801"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4]), r"dimensions \(4,\), expected \(3,\)"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2]), "holds 2 bytes of values, its header promises 3"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3, 4]), "holds 4 bytes"),
])
def test_read_idx_checks_magic_dimensions_and_size(content: bytes, message: str) -> None:
    with pytest.raises(DatasetError, match=f"labels-file: .*{message}"):
        mnist_module.read_idx(content, 0x0801, (3,), "labels-file")


def _gzip_stream(header: bytes, zero_bytes: int) -> bytes:
    """A gzip file of `header` followed by `zero_bytes` zeros, compressed chunk by chunk
    (zeros shrink about 1,000-fold: a small file that inflates to a large one)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    parts = [deflater.compress(header)]
    parts += [deflater.compress(chunk) for _ in range(zero_bytes >> 20)]
    return b"".join([*parts, deflater.flush()])


def _refused_cheaply(root: Path, match: str) -> tuple[float, int]:
    """Load the test split from `root` expecting a DatasetError matching `match`; returns
    (seconds, peak bytes allocated meanwhile)."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DatasetError, match=match):
            MNIST(root=root, train=False, download=False)
        return time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_header_declaring_2_to_the_40_values_is_refused_before_allocating(
        no_data_env: Path, tmp_path: Path) -> None:
    header = struct.pack(">4I", 0x0803, 1 << 20, 1 << 10, 1 << 10)       # 2⁴⁰ pixels
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(_gzip_stream(header, 1 << 20))
    seconds, peak = _refused_cheaply(tmp_path, r"header gives dimensions \(1048576, 1024, "
                                               r"1024\), expected \(10000, 28, 28\)")
    assert seconds < 1 and peak < 50 << 20


def test_a_gzip_bomb_stops_at_the_size_its_header_declares(no_data_env: Path,
                                                           tmp_path: Path) -> None:
    header = struct.pack(">4I", 0x0803, 10000, 28, 28)                  # 7.8 MB declared
    bomb = _gzip_stream(header, 256 << 20)                              # inflates to 256 MiB
    assert len(bomb) < 1 << 20
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(bomb)
    seconds, peak = _refused_cheaply(tmp_path, "corrupt or truncated MNIST file: it "
                                               "decompresses to more than the 7,840,000 "
                                               "values its IDX header declares")
    assert seconds < 1 and peak < 50 << 20


# ------------------------------------------------------------------ downloads (fake mirrors)

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def http_mirror(shared_data: Path, tmp_path: Path):
    """A local HTTP server on 127.0.0.1 serving the test split, as a mirror would."""
    folder = _copy_test_split(shared_data, tmp_path / "served")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_tries_mirrors_in_turn_and_verifies(shared_data: Path, tmp_path: Path,
                                                     no_data_env: Path, http_mirror: str,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture) -> None:
    corrupt = tmp_path / "corrupt-mirror"
    corrupt.mkdir()
    for name in TEST_FILES:
        (corrupt / name).write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr(MNIST, "mirrors", [(tmp_path / "no-such-mirror").as_uri() + "/",
                                           "http://127.0.0.1:1/",
                                           corrupt.as_uri() + "/",
                                           http_mirror])
    test = MNIST(train=False)
    cache = no_data_env / ".cache" / "autodiff" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(TEST_FILES)   # no temp files
    for name in TEST_FILES:
        assert (cache / name).read_bytes() == (shared_data / "mnist" / name).read_bytes()
    assert test.folder == cache and np.bincount(test.targets.numpy()).tolist() == TEST_COUNTS
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err          # tqdm's bar


def test_download_into_root_without_tqdm(tmp_path: Path, no_data_env: Path, http_mirror: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)                         # import fails
    monkeypatch.setattr(MNIST, "mirrors", [http_mirror])
    test = MNIST(root=tmp_path / "data", train=False)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(TEST_FILES)
    assert test.targets.numpy()[:3].tolist() == [7, 2, 1]


def test_download_failure_names_every_mirror(tmp_path: Path, no_data_env: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    corrupt = tmp_path / "corrupt-mirror"
    corrupt.mkdir()
    (corrupt / TEST_FILES[0]).write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:1/", corrupt.as_uri() + "/"])
    with pytest.raises(DatasetError) as caught:
        MNIST(train=False)
    message = str(caught.value)
    assert "could not download t10k-images-idx3-ubyte.gz from any mirror" in message
    assert "http://127.0.0.1:1/t10k-images-idx3-ubyte.gz" in message
    assert f"{corrupt.as_uri()}/t10k-images-idx3-ubyte.gz: the downloaded file: " \
           f"corrupt MNIST file" in message
    assert not (no_data_env / ".cache" / "autodiff" / "mnist").exists()   # nothing half-written


class NoisyDataset(Dataset):
    """Samples with noise from the worker's generator (module level: it must pickle)."""

    def __len__(self):
        return 24

    def __getitem__(self, i):
        return ad.tensor([float(i)]), float(ad.rand(1).item())


def _passes(dataset, num_workers, passes=2):
    ad.manual_seed(0)
    loader = DataLoader(dataset, batch_size=5, shuffle=True, num_workers=num_workers)
    return [[[b.numpy().ravel().tolist() for b in batch] for batch in loader]
            for _ in range(passes)]


def test_workers_give_the_batches_of_num_workers_0_in_the_same_order():
    data = TensorDataset(ad.arange(24, dtype=ad.float32), ad.arange(24))
    assert _passes(data, 3) == _passes(data, 0)


def test_workers_are_seeded_reproducibly_and_differently():
    workers = _passes(NoisyDataset(), 3)
    assert workers == _passes(NoisyDataset(), 3)            # seeded: reproducible
    noise = [tuple(n) for p in workers for _, n in p]
    assert len(set(noise)) == len(noise)                     # per worker and per pass


def test_an_unpicklable_dataset_is_refused_naming_it():
    class Local(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError, match="Local cannot be pickled"):
        DataLoader(Local(), num_workers=2)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(Local(), num_workers=-1)


class Broken(NoisyDataset):
    def __getitem__(self, i):
        raise KeyError(i)


def test_a_worker_error_names_the_batch():
    with pytest.raises(RuntimeError, match="failed making batch 0: KeyError"):
        list(DataLoader(Broken(), batch_size=4, num_workers=2))


# ------------------------------------------------------------------ Subset, ConcatDataset,
# random_split, get_worker_info (torch.utils.data's names)

def test_subset_picks_samples_in_order_and_batches_them() -> None:
    data = TensorDataset(ad.arange(10) * 10, ad.arange(10))
    subset = Subset(data, [7, 2, 9, 4])
    assert len(subset) == 4 and subset.dataset is data and subset.indices == [7, 2, 9, 4]
    assert [int(subset[i][0].item()) for i in (0, 1, -1)] == [70, 20, 40]
    xs, _ = subset[[0, 3]]                                   # a list: one read of the dataset
    assert xs.numpy().tolist() == [70, 40]
    fast = [xb.numpy().tolist() for xb, _ in DataLoader(subset, batch_size=3)]
    assert fast == [[70, 20, 90], [40]]
    slow = [yb.numpy().tolist() for _, yb in DataLoader(Subset(Squares(10), [7, 2, 9, 4]),
                                                        batch_size=3)]
    assert slow == [[7, 2, 9], [4]]                          # read sample by sample


def test_concat_dataset_counts_through_each_dataset() -> None:
    first, second, third = Squares(3), TensorDataset(ad.arange(10, 14)), Squares(2)
    both = ConcatDataset([first, second, third])
    assert both.cumulative_sizes == [3, 7, 9] and len(both) == 9
    assert both.datasets == [first, second, third]
    assert both[2][1] == 2 and int(both[3][0].item()) == 10 and int(both[6][0].item()) == 13
    assert both[7][1] == 0 and both[-1][1] == 1 and int(both[-3][0].item()) == 13
    assert both[-9][1] == 0
    with pytest.raises(IndexError, match="index 9 is out of range for 9 samples"):
        both[9]
    with pytest.raises(ValueError, match="index -10 is out of range for 9 samples"):
        both[-10]
    with pytest.raises(ValueError, match="got no datasets"):
        ConcatDataset([])
    joined = first + second + third                          # Dataset.__add__, as torch
    assert isinstance(joined, ConcatDataset) and len(joined) == 9
    assert [joined[i][1] for i in (0, 7, 8)] == [0, 0, 1]
    batches = [yb.numpy().tolist() for _, yb in DataLoader(ConcatDataset([first, third]),
                                                           batch_size=4)]
    assert batches == [[0, 1, 2, 0], [1]]


def test_subset_and_concat_dataset_match_torch() -> None:
    torch = pytest.importorskip("torch")
    tdata = torch.utils.data
    parts = [list(range(3)), list(range(10, 15)), list(range(20, 22))]
    ours, theirs = ConcatDataset(parts), tdata.ConcatDataset(parts)
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-10, 10)] == [theirs[i] for i in range(-10, 10)]
    for index in (10, -11):
        with pytest.raises(Exception) as caught:
            theirs[index]
        with pytest.raises(caught.type):
            ours[index]
    assert ConcatDataset.cumsum(parts) == tdata.ConcatDataset.cumsum(parts)
    subset, torch_subset = Subset(ours, [9, 0, 4]), tdata.Subset(theirs, [9, 0, 4])
    assert [subset[i] for i in range(-3, 3)] == [torch_subset[i] for i in range(-3, 3)]
    assert len(subset) == len(torch_subset) == 3


SPLITS = [([3, 7], 10), ([0.3, 0.3, 0.4], 30), ([0.33, 0.33, 0.34], 10), ([0.5, 0.5], 11),
          ([0.1, 0.1, 0.8], 7), ([0.25, 0.25, 0.25, 0.25], 2), ([1.0], 5), ([0, 4], 4)]


@pytest.mark.filterwarnings("ignore:.*is 0:UserWarning", "ignore:.*gets 0 of:UserWarning")
@pytest.mark.parametrize("lengths, n", SPLITS)
def test_random_split_sizes_match_torch(lengths: list[float], n: int) -> None:
    torch = pytest.importorskip("torch")
    theirs = torch.utils.data.random_split(range(n), lengths,
                                           generator=torch.Generator().manual_seed(0))
    ours = random_split(list(range(n)), lengths, generator=ad.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]


def test_random_split_deals_out_every_sample_once_reproducibly() -> None:
    data = TensorDataset(ad.arange(30))
    splits = random_split(data, [0.33, 0.33, 0.34], generator=ad.Generator().manual_seed(3))
    assert [len(s) for s in splits] == [10, 10, 10]         # floors 9, 9, 10; 2 left over
    reverse = random_split(data, [0.34, 0.33, 0.33])
    assert [len(s) for s in reverse] == [11, 10, 9]           # floors 10, 9, 9; 2 left over
    indices = [s.indices for s in splits]
    assert sorted(i for split in indices for i in split) == list(range(30))
    assert indices[0] != list(range(10))
    again = random_split(data, [0.33, 0.33, 0.34], generator=ad.Generator().manual_seed(3))
    assert [s.indices for s in again] == indices             # same seed, same split
    other = random_split(data, [10, 10, 10], generator=ad.Generator().manual_seed(4))
    assert [s.indices for s in other] != indices
    ad.manual_seed(5)
    first = [s.indices for s in random_split(data, [20, 10])]
    ad.manual_seed(5)
    assert [s.indices for s in random_split(data, [20, 10])] == first   # the global generator
    assert all(isinstance(s, Subset) and s.dataset is data for s in splits)
    assert int(splits[1][0][0].item()) == indices[1][0]
    with pytest.warns(UserWarning, match="split 1 \\(fraction 0.1\\) gets 0 of the 3 samples"):
        assert [len(s) for s in random_split(list(range(3)), [0.1, 0.1, 0.8])] == [1, 0, 2]


@pytest.mark.parametrize("lengths, message", [
    ([3, 4], r"lengths \[3, 4\] sum to 7, but the dataset has 10 samples; give counts that "
             r"sum to 10, or fractions that sum to 1"),
    ([0.5, 0.6], r"fractions \[0.5, 0.6\] sum to 1.1, not 1; give fractions that sum to 1, "
                 r"or counts that sum to 10"),
    ([-0.5, 1.5], "fraction -0.5 at index 0 is not between 0 and 1"),
    ([-2, 12], r"lengths must be >= 0, got \[-2, 12\]"),
    ([2.5, 7.5], r"fractions \[2.5, 7.5\] sum to 10, not 1"),
])
def test_random_split_names_bad_lengths(lengths: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        random_split(TensorDataset(ad.arange(10)), lengths)


class WhoMadeMe(Dataset):
    """Each sample says which worker made it (module level: it must pickle)."""

    shard = -1                       # set in each worker's copy by _note_shard

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> tuple[int, ...]:
        info = get_worker_info()
        return (info.id, info.num_workers, info.seed, len(info.dataset), info.dataset.shard,
                int(info.dataset is self))


def _note_shard(worker_id: int) -> None:
    info = get_worker_info()                 # already set when worker_init_fn runs, as torch
    info.dataset.shard = 100 + info.id + worker_id


def test_get_worker_info_is_none_here_and_describes_each_worker() -> None:
    assert get_worker_info() is None
    dataset = WhoMadeMe()
    batches = list(DataLoader(dataset, batch_size=2, num_workers=2, worker_init_fn=_note_shard))
    rows = [[column.numpy().tolist() for column in batch] for batch in batches]
    ids = [row[0] for row in rows]
    assert ids == [[0, 0], [1, 1], [0, 0], [1, 1]]           # batch k from worker k mod 2
    assert all(row[1] == [2, 2] and row[3] == [8, 8] and row[5] == [1, 1] for row in rows)
    assert [row[4][0] for row in rows] == [100, 102, 100, 102]
    seeds = [row[2][0] for row in rows]
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0]   # base seed + worker id
    assert dataset.shard == -1 and get_worker_info() is None   # the main process untouched
    with pytest.raises(AttributeError):
        WorkerInfo(0, 1, 0, dataset).id = 1                     # read-only, as torch's
