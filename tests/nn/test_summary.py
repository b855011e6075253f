"""nn.summary: Keras's table for document 001's XOR model, and the counting rules."""
import numpy as np
import pytest

import autodiff as ad
import nn

XOR_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
0 (Linear)                   (None, 10)                30
_________________________________________________________________
1 (Tanh)                     (None, 10)                0
_________________________________________________________________
2 (Linear)                   (None, 1)                 11
_________________________________________________________________
3 (Sigmoid)                  (None, 1)                 0
=================================================================
Total params: 41
Trainable params: 41
Non-trainable params: 0
_________________________________________________________________"""


def test_xor_summary_prints_and_returns_keras_table(capsys):
    model = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 1), nn.Sigmoid())
    text = nn.summary(model, input_shape=(2,))
    assert text == XOR_TABLE
    assert capsys.readouterr().out == XOR_TABLE + "\n"


def test_summary_of_nested_model_with_batchnorm_and_frozen_weights(capsys):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 1000)
            self.body = nn.Sequential(nn.BatchNorm1d(1000), nn.Dropout(0.5), nn.ReLU())
            self.fc2 = nn.Linear(1000, 10)

        def forward(self, x):
            return self.fc2(self.body(self.fc1(x.flatten(1))))

    net = Net()
    net.fc2.weight.requires_grad_(False)
    before_stats = net.body[0].running_mean.numpy().copy()
    ad.manual_seed(3)
    expected_next_draw = ad.rand(1).item()
    ad.manual_seed(3)
    text = nn.summary(net, (28, 28))
    lines = text.split("\n")
    rows = [line.split()[:2] + [line.split()[-1]] for line in lines[3:-5:2]]
    assert rows == [["fc1", "(Linear)", "785,000"], ["body.0", "(BatchNorm1d)", "4,000"],
                    ["body.1", "(Dropout)", "0"], ["body.2", "(ReLU)", "0"],
                    ["fc2", "(Linear)", "10,010"]]
    assert "(None, 1000)" in lines[3]
    assert lines[-4:-1] == ["Total params: 799,010", "Trainable params: 787,010",
                            "Non-trainable params: 12,000"]
    # the dry run changed nothing: modes, running statistics, the random stream
    assert net.training and net.body[1].training
    np.testing.assert_array_equal(net.body[0].running_mean.numpy(), before_stats)
    assert ad.rand(1).item() == expected_next_draw
    assert all(not m._forward_hooks for m in net.modules())


def test_summary_rejects_a_bad_input_shape():
    with pytest.raises(ValueError, match="shape of one sample"):
        nn.summary(nn.Linear(2, 2), input_shape=(None, 2))
    assert "(None, 3)" in nn.summary(nn.Linear(2, 3), input_shape=2)


CNN_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
0 (Conv2d)                   (None, 8, 28, 28)         80
_________________________________________________________________
1 (BatchNorm2d)              (None, 8, 28, 28)         32
_________________________________________________________________
2 (ReLU)                     (None, 8, 28, 28)         0
_________________________________________________________________
3 (MaxPool2d)                (None, 8, 14, 14)         0
_________________________________________________________________
4 (Dropout2d)                (None, 8, 14, 14)         0
_________________________________________________________________
5 (Conv2d)                   (None, 16, 12, 12)        1,168
_________________________________________________________________
6 (AdaptiveAvgPool2d)        (None, 16, 1, 1)          0
_________________________________________________________________
7 (Flatten)                  (None, 16)                0
_________________________________________________________________
8 (Linear)                   (None, 10)                170
=================================================================
Total params: 1,450
Trainable params: 1,434
Non-trainable params: 16
_________________________________________________________________"""


def test_summary_of_a_conv_net_shows_image_shapes_and_counts(capsys):
    """Conv2d(1, 8, 3): 8·1·3·3 + 8 = 80; BatchNorm2d(8): γ, β and the two running
    statistics, 16 of them non-trainable; Conv2d(8, 16, 3) without padding: 28 → 12 after
    the pool, 16·8·9 + 16 = 1,168 parameters."""
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Dropout2d(0.25), nn.Conv2d(8, 16, 3),
                          nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(16, 10))
    assert nn.summary(model, input_shape=(1, 28, 28)) == CNN_TABLE
    assert capsys.readouterr().out == CNN_TABLE + "\n"
