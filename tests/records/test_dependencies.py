import subprocess
import sys

DETECTION_STACK = ("antifraud.detectors", "antifraud.features", "antifraud.graphs", "antifraud.findings",
                   "numba", "sklearn")


def test_the_record_package_loads_nothing_of_the_detection_stack():
    code = (
        "import pkgutil, importlib, sys, antifraud.records as r\n"
        "for m in pkgutil.iter_modules(r.__path__): importlib.import_module('antifraud.records.' + m.name)\n"
        f"print(sorted({{m.split('.')[0] if not m.startswith('antifraud') else '.'.join(m.split('.')[:2])"
        f" for m in sys.modules if m.startswith({DETECTION_STACK!r})}}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
