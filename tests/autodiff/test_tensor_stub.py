"""tensor.pyi, the stub editors read, lists every method the op modules register, and is
current; tensor.py stays the core: short, importing no op module."""
import ast
import re
from pathlib import Path

import autodiff as ad
from autodiff import tensor_stub

TENSOR_PY = Path(ad.__file__).with_name("tensor.py")


def test_the_stub_is_current():
    assert tensor_stub.STUB_PATH.read_text() == tensor_stub.render(), \
        "autodiff/tensor.pyi is stale: run `python -m autodiff.tensor_stub`"


def test_the_stub_names_every_method_of_the_class():
    stubbed = set(re.findall(r"^    def (\w+)\(", tensor_stub.STUB_PATH.read_text(), re.M))
    registered = {name for name, member in vars(ad.Tensor).items()
                  if callable(member) or isinstance(member, (property, classmethod))}
    assert registered - stubbed == set()
    assert {"sum", "reshape", "__add__", "__iadd__", "backward", "to", "flip", "sin",
            "T", "grad"} <= stubbed


def test_tensor_py_is_the_core_alone():
    source = TENSOR_PY.read_text()
    assert len(source.splitlines()) <= 450
    imported = {node.module for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "collections.abc", "typing", "dtypes", "errors", None}, \
        imported
