"""Runs torch_speed.py as `bench speed --device cuda` would, without a GPU.

usage: python3 torch_on_meta.py torch_speed.py CONFIG_JSON

The config's device is "meta": tensors there have shapes and no data, and
every operator is dispatched through a mode that fails when one call mixes
devices, as CUDA does. So a tensor the script leaves on the CPU (an arange
or a mask built without device=) fails here instead of on the GPU machine.
The CPU-only exceptions are CUDA's own: 0-dim CPU tensors (Python scalars)
and the CPU tensors that creation and copy operators take or return.
"""
import sys

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

# The meta device has no multinomial kernel; the draw's value does not
# matter for device placement, only its device.
torch.multinomial = lambda p, n: torch.zeros(p.shape[0], n, dtype=torch.long, device=p.device)

# Operators that legitimately move or create data across devices.
CROSSING = {"_to_copy", "copy_", "lift_fresh", "_local_scalar_dense"}


class OneDevice(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        if name not in CROSSING:
            flat, _ = tree_flatten((args, kwargs))
            devs = {str(a.device) for a in flat
                    if isinstance(a, torch.Tensor) and not (a.dim() == 0 and a.device.type == "cpu")}
            if len(devs) > 1:
                raise RuntimeError(f"{func}: tensors on {sorted(devs)} in one call")
        return func(*args, **kwargs)


script, cfg = sys.argv[1], sys.argv[2]
sys.argv = [script, cfg]
with OneDevice():
    exec(compile(open(script).read(), script, "exec"), {"__name__": "__main__"})
