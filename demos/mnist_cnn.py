"""Handwritten digits with a convolutional network: document 004's MNIST past 99 %.

Document 004 (see docs/sources.md) classifies MNIST with a fully connected 784→64→64→64→10
network (demos/mnist.py reproduces it: about 0.966 after its 2 epochs). Documents 000 and
004 point past it: 000 cites Krizhevsky et al.'s ImageNet convolutional network for Dropout,
and MNIST is the classic first task for one. A convolution slides a small filter over the
image, so each feature it learns is looked for everywhere with the same few weights, and
pooling makes the answer robust to where exactly a stroke lies. This demo trains

    conv1  1→16, 5×5, padding 2, ReLU, 2×2 max-pool       (B, 16, 14, 14)
    conv2 16→32, 5×5, padding 2, ReLU, 2×2 max-pool       (B, 32, 7, 7)
    fc     32·7·7 → 10, log_softmax                       (B, 10) log p(digit | image)

an nn.Sequential of built-in layers (28,938 parameters, half the MLP's 59,210), with the
NLL loss and Adam, lr 0.002 multiplied by 0.3 after each epoch, on batches of 64 drawn
in a shuffled order, for 3 epochs. The images are scaled to [0, 1] as in 004 and then
standardised with MNIST's mean 0.1307 and standard deviation 0.3081 (as PyTorch's MNIST
example does). Test accuracy is measured without gradients after every epoch. For the
comparison the demo also trains document 004's MLP with the document's own recipe
(batches of 15, Adam lr 0.001, 2 epochs), so the table shows both side by side.

Pictures: the 16 filters of conv1 and what they make of a test digit (each row with its
colour bar), the first 24 test digits the network gets wrong (in test-set order), and the
graph of one training step drawn by `ad.viz` with one box per layer. The trained model
is saved (safetensors + architecture) and loaded back. `--quick` trains on the first
2,000 training images and tests on the first 1,000.
"""
from __future__ import annotations

import pathlib
import time
from typing import Any

import numpy as np

import autodiff as ad
import nn
import nn.functional as F
import optim
from demos import mnist
from demos.common import plt, print_comparison, row, save_figure
from nn.data import MNIST, DataLoader, Dataset, Subset

BATCH_SIZE, LR, LR_DECAY, EPOCHS = 64, 0.002, 0.3, 3
MEAN, STD = 0.1307, 0.3081                      # of MNIST's training pixels, in [0, 1]
TARGET = 0.99                                   # test accuracy after the last epoch
MLP_PARAMETERS = 784 * 64 + 64 + 2 * (64 * 64 + 64) + 64 * 10 + 10   # 004's MLP: 59,210
QUICK_TRAIN, QUICK_TEST = 2_000, 1_000          # --quick: the first images of each split
TEST_BATCH = 500                                # conv2's columns for 500 images: 31 MB
LOG_EVERY = 50                                  # steps between loss readings
SHOWN_ERRORS = 24                               # misclassified digits drawn


def make_cnn() -> nn.Sequential:
    """Two conv + ReLU + max-pool blocks, then one Linear layer to the 10 digits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 28 → 14
        nn.Conv2d(16, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # 14 → 7
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10), nn.LogSoftmax(dim=1))


class Standardized(Dataset):
    """The images of `dataset` as (x - MEAN) / STD (torchvision's Normalize), labels as they
    are; keeps the dataset's whole-batch path `get_batch`."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        x, y = self.dataset[index]
        return (x - MEAN) / STD, y

    def get_batch(self, indices: np.ndarray) -> list[ad.Tensor]:
        x, y = self.dataset.get_batch(indices)
        return [ad.tensor((x.numpy() - np.float32(MEAN)) / np.float32(STD)), y]


def train_epoch(model: nn.Module, loader: DataLoader, optimizer: optim.Optimizer, *,
                quick: bool, desc: str) -> tuple[float, list[float]]:
    """One pass over the shuffled training set, one Adam step per batch, with a progress
    bar carrying the loss. Returns the seconds it took and the loss every LOG_EVERY steps."""
    bar = mnist.loss_bar(len(loader), quick, desc)
    losses = []
    start = time.perf_counter()
    for step, (x, y) in enumerate(loader, start=1):
        loss = F.nll_loss(model(x), y)                # −mean log p(true digit)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % LOG_EVERY == 0 or step == len(loader):
            losses.append(loss.item())
            if bar is not None:
                bar.update(step - bar.n)
                bar.set_postfix(loss=f"{losses[-1]:.3f}")
    if bar is not None:
        bar.close()
    return time.perf_counter() - start, losses


def plot_filters(model: nn.Sequential, image: np.ndarray, label: int,
                 path: pathlib.Path) -> None:
    """conv1's 16 filters above what each makes of one test digit after the ReLU: the
    feature maps conv2 reads. One colour scale per row, each with its colour bar: weights
    diverging around 0 (red positive, blue negative), feature maps from 0 up to the
    largest output of any of the 16."""
    weights = model[0].weight.numpy()[:, 0]                          # (16, 5, 5)
    with ad.no_grad():
        maps = model[1](model[0](ad.tensor(image[None]))).numpy()[0]  # (16, 28, 28)
    bound = np.abs(weights).max()
    fig, axes = plt.subplots(2, 16, figsize=(17, 2.9), layout="constrained")
    for k in range(16):
        shown_weights = axes[0, k].imshow(weights[k], cmap="RdBu_r", vmin=-bound, vmax=bound)
        axes[0, k].set_title(f"filter {k}", fontsize=8)
        shown_maps = axes[1, k].imshow(maps[k], cmap="gray_r", vmin=0, vmax=maps.max())
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, 0].set_ylabel("weights", fontsize=8)
    axes[1, 0].set_ylabel("feature map", fontsize=8)
    fig.colorbar(shown_weights, ax=axes[0, :].tolist(), shrink=0.9, pad=0.01,
                 label="weight\n(red +, blue −)")
    fig.colorbar(shown_maps, ax=axes[1, :].tolist(), shrink=0.9, pad=0.01,
                 label="ReLU output\n(white = 0)")
    fig.suptitle(f"conv1 after training: its 5 × 5 filters (top), and their ReLU outputs on "
                 f"the first test digit, a {label} (bottom)")
    save_figure(fig, path)


def plot_errors(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray,
                confidence: np.ndarray, total: int, path: pathlib.Path) -> None:
    """The first SHOWN_ERRORS misclassified test digits in test-set order, titled
    "label → prediction (p)"."""
    wrong = np.flatnonzero(predictions != labels)[:SHOWN_ERRORS]
    columns = 8
    rows = max(1, -(-len(wrong) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.9 * rows),
                             squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i].reshape(28, 28), cmap="gray_r")
        ax.set_title(f"{labels[i]} → {predictions[i]} ({confidence[i]:.2f})", fontsize=9,
                     color="red")
    shown = (f"all {total}" if len(wrong) == total
             else f"the first {len(wrong)} of the {total}")
    fig.suptitle(f"{shown} misclassified test digits (of {len(labels):,}), in test-set "
                 f"order\ntitles: true label → prediction (its probability)")
    save_figure(fig, path)


def predict(model: nn.Module, loader: DataLoader) -> tuple[np.ndarray, np.ndarray]:
    """The predicted digit and its probability for every image, without a graph."""
    predictions, confidence = [], []
    with ad.no_grad():
        for x, _ in loader:
            log_p = model(x).numpy()
            predictions.append(log_p.argmax(axis=1))
            confidence.append(np.exp(log_p.max(axis=1)))
    return np.concatenate(predictions), np.concatenate(confidence)


def train_mlp(train_set: Any, test_set: Any, quick: bool) -> tuple[list[float], list[float]]:
    """Document 004's MLP with the document's recipe (demos/mnist.py): accuracies and
    seconds per epoch."""
    model = mnist.Net()
    optimizer = optim.Adam(model.parameters(), lr=mnist.LR)
    loader = DataLoader(train_set, batch_size=mnist.BATCH_SIZE, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1_000)
    accuracies, seconds = [], []
    for epoch in range(1, mnist.EPOCHS + 1):         # epochs counted from 1, as 004 does
        took, _ = mnist.train_epoch(model, loader, optimizer, quick=quick,
                                    desc=f"MLP epoch {epoch}")
        accuracies.append(mnist.evaluate(model, test_loader)[0])
        seconds.append(took)
        print(f"MLP epoch {epoch} accuracy: {accuracies[-1]:.4f}   ({took:.1f} s)")
    return accuracies, seconds


def verdict(accuracy: float, quick: bool) -> tuple[str, bool | None]:
    """The verdict on the CNN's last accuracy and its `agrees` flag (None: a quick run, on
    a subset, makes no comparison)."""
    if quick:
        return "quick run (a subset): not comparable", None
    if accuracy >= TARGET:
        return f"agrees: target ≥ {TARGET}", True
    return f"below the target ≥ {TARGET}", False


def run(out: pathlib.Path, seed: int, quick: bool) -> dict[str, Any]:
    train_images = MNIST(train=True)                       # (1, 28, 28) images in [0, 1]
    test_images = MNIST(train=False)
    flat_train, flat_test = MNIST(train=True, flatten=True), MNIST(train=False, flatten=True)
    if quick:
        train_images, flat_train = (Subset(d, np.arange(QUICK_TRAIN))
                                    for d in (train_images, flat_train))
        test_images, flat_test = (Subset(d, np.arange(QUICK_TEST))
                                  for d in (test_images, flat_test))
    train_set, test_set = Standardized(train_images), Standardized(test_images)
    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=TEST_BATCH)
    print(f"training on {len(train_set):,} images, {len(train_loader):,} batches of "
          f"{BATCH_SIZE} per epoch; testing on {len(test_set):,}")

    model = make_cnn()
    nn.summary(model, input_shape=(1, 28, 28))
    optimizer = optim.Adam(model.parameters(), lr=LR)
    schedule = optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=LR_DECAY)
    accuracies, seconds, losses = [], [], []
    for epoch in range(1, EPOCHS + 1):                    # counted from 1, as 004 does
        took, epoch_losses = train_epoch(model, train_loader, optimizer, quick=quick,
                                         desc=f"CNN epoch {epoch}")
        schedule.step()
        accuracy, labels, predictions = mnist.evaluate(model, test_loader)
        accuracies.append(accuracy)
        seconds.append(took)
        losses += epoch_losses
        print(f"CNN epoch {epoch} accuracy: {accuracy:.4f}   ({took:.1f} s, "
              f"{len(train_loader) / took:.0f} steps/s, loss {np.mean(epoch_losses):.3f})")
    mlp_accuracies, mlp_seconds = train_mlp(flat_train, flat_test, quick)

    path = out / "mnist_cnn.safetensors"
    nn.save(model, path)
    reloaded, confidence = predict(nn.load(path), test_loader)
    same_after_reload = bool(np.array_equal(reloaded, predictions))
    errors = int((predictions != labels).sum())
    test_x, _ = test_set.get_batch(np.arange(len(test_set)))
    raw_x, _ = test_images.get_batch(np.arange(len(test_set)))
    plot_filters(model, test_x.numpy()[0], int(labels[0]), out / "filters.png")
    plot_errors(raw_x.numpy(), labels, predictions, confidence, errors, out / "errors.png")
    x, y = next(iter(DataLoader(test_set, batch_size=4)))
    step_loss = mnist.draw_training_step(model, x, y, out / "training_step_graph.png")

    cnn_params = sum(p.numel() for p in model.parameters())
    mlp_params = sum(p.numel() for p in mnist.Net().parameters())
    text, agrees = mnist.verdict(mlp_accuracies[-1], mnist.DOCUMENT["epochs"][-1],
                                 mnist.TARGET["epochs"][-1], mnist.PYTORCH[-1], quick)
    rows = [row(f"MLP (004's net and recipe): accuracy after epoch {mnist.EPOCHS}",
                mnist.DOCUMENT["epochs"][-1], f"{mlp_accuracies[-1]:.4f}", text,
                agrees=agrees)]
    for epoch in range(EPOCHS):
        if epoch == EPOCHS - 1:                   # the last epoch meets our target ≥ 0.99
            text, agrees = verdict(accuracies[epoch], quick)
        else:                                     # earlier epochs only inform
            text, agrees = f"{accuracies[epoch] - mlp_accuracies[-1]:+.4f} against the MLP", None
        rows.append(row(f"CNN: accuracy after epoch {epoch + 1}", "– (004 trains the MLP only)",
                        f"{accuracies[epoch]:.4f}", text, agrees=agrees))
    mlp_errors = round((1 - mlp_accuracies[-1]) * len(test_set))
    fewer_mistakes = errors < mlp_errors
    same_mlp = mlp_params == MLP_PARAMETERS
    rows += [
        row("test errors", f"{(1 - mnist.DOCUMENT['epochs'][-1]) * len(test_set):.0f} "
            f"(MLP)", f"MLP {mlp_errors}, CNN {errors}",
            f"the CNN makes {mlp_errors / max(errors, 1):.1f}× fewer mistakes"
            if fewer_mistakes else "the CNN makes no fewer mistakes than the MLP",
            agrees=fewer_mistakes),
        row("parameters", f"{MLP_PARAMETERS:,} (MLP)", f"MLP {mlp_params:,}, CNN {cnn_params:,}",
            "weights shared across the image" if same_mlp else "differs: not the document's MLP",
            agrees=same_mlp),
        row("seconds per epoch", "— (not reported)",
            f"MLP {', '.join(f'{s:.1f}' for s in mlp_seconds)}; CNN "
            f"{', '.join(f'{s:.1f}' for s in seconds)}",
            f"CNN: {len(train_loader):,} Adam steps of {BATCH_SIZE} each, "
            f"{len(train_loader) / np.mean(seconds):.0f} steps/s", agrees=None),
        row("model file", "004 saves nothing", "safetensors + architecture, reloaded",
            "same predictions after reloading" if same_after_reload
            else "DIFFERENT predictions after reloading", agrees=same_after_reload),
    ]
    print_comparison(rows, "mnist_cnn: document 004's MLP (docs/sources.md) vs a CNN, on autodiff")
    return {
        "comparison": rows,
        "train_size": len(train_set), "test_size": len(test_set),
        "batch_size": BATCH_SIZE, "lr": LR, "lr_decay": LR_DECAY, "epochs": EPOCHS,
        "steps_per_epoch": len(train_loader),
        "accuracy": {"after_epoch": accuracies, "mlp_after_epoch": mlp_accuracies},
        "seconds_per_epoch": seconds, "mlp_seconds_per_epoch": mlp_seconds,
        "loss_every_50_steps": losses,
        "test_errors": errors, "parameters": {"cnn": cnn_params, "mlp": mlp_params},
        "same_after_reload": same_after_reload,
        "graph_step_loss": step_loss,
    }
