"""Trained networks in the store: each run that trains keeps its networks' spec and θ.

An entry hands a network to the store with :func:`keep_networks` (on the dataset it returns);
:func:`write_run` then writes ``network.nc`` beside ``arrays.nc`` — one netCDF group per
network, one variable per parameter tensor (float32/float64 as trained, never pickle), the
spec as JSON in the group's attributes — and ``Store.network(run_id)`` builds it again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import torch
import xarray as xr

from deepdyn.dynamics import Network, NetworkSpec, build

ATTR = "deepdyn_networks"  # dataset attribute carrying {name: network dataset} to write_run
FILE = "network.nc"
FORMAT = "deepdyn-network/1"


def network_dataset(net: Network) -> xr.Dataset:
    """θ of ``net`` (its state dict) as an xarray Dataset, with the spec in its attributes."""
    if not isinstance(net, Network):
        raise ValueError(f"keep_networks needs deepdyn Networks, got {type(net).__name__}")
    variables: dict[str, Any] = {}
    for name, t in net.state_dict().items():
        a = t.detach().cpu().numpy()
        variables[name] = ([f"{name}:{i}" for i in range(a.ndim)], a)
    frozen = [n for n, p in net.named_parameters() if not p.requires_grad]
    attrs = {"format": FORMAT, "spec": net.spec.to_json(), "frozen": json.dumps(frozen)}
    return xr.Dataset(variables, attrs=attrs)


def keep_networks(dataset: xr.Dataset, networks: Network | Mapping[str, Network]) -> xr.Dataset:
    """``dataset`` carrying ``networks`` (one, or several by name) for the store to keep."""
    named = {"network": networks} if isinstance(networks, Network) else dict(networks)
    for name in named:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"network name {name!r} invalid: use a Python identifier")
    kept = {name: network_dataset(net) for name, net in named.items()}
    return dataset.assign_attrs({ATTR: kept})


def split(dataset: xr.Dataset) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """(the dataset without its networks, the networks it carried by name)."""
    nets = dataset.attrs.get(ATTR)
    if not nets:
        return dataset, {}
    clean = dataset.copy()
    clean.attrs = {k: v for k, v in dataset.attrs.items() if k != ATTR}
    return clean, dict(nets)


def write(path: Path, networks: Mapping[str, xr.Dataset]) -> None:
    """Write the networks into the netCDF file ``path``, one group each."""
    mode = "w"
    for name, ds in networks.items():
        ds.to_netcdf(path, group=name, mode=mode, engine="netcdf4")  # type: ignore[call-overload]
        mode = "a"


def names(path: Path) -> list[str]:
    """The networks kept in ``path`` (its group names); [] when there is no file."""
    if not path.is_file():
        return []
    with netCDF4.Dataset(path) as nc:
        return list(nc.groups)


def read(path: Path, name: str | None = None, *, member: int | None = None) -> Network:
    """The network ``name`` (the only one when None) of ``path``, built from its spec and θ;
    ``member=k`` returns member k of a kept ensemble as a network alone."""
    kept = names(path)
    if not kept:
        raise ValueError(f"{path.parent.name}: this run kept no trained network")
    if name is None:
        if len(kept) > 1:
            raise ValueError(f"this run kept {len(kept)} networks: name one of {', '.join(kept)}")
        name = kept[0]
    if name not in kept:
        raise ValueError(f'network "{name}" not in this run: choose one of {", ".join(kept)}')
    ds = xr.load_dataset(path, group=name, engine="netcdf4")
    if ds.attrs.get("format") != FORMAT:
        raise ValueError(
            f'network "{name}" has format {ds.attrs.get("format")!r}, this deepdyn reads {FORMAT}'
        )
    net = build(NetworkSpec.from_json(str(ds.attrs["spec"])))
    state = {str(k): torch.from_numpy(np.asarray(ds[k].values)) for k in ds.data_vars}
    net.load_state_dict(state)
    for n, p in net.named_parameters():
        p.requires_grad_(n not in json.loads(str(ds.attrs.get("frozen", "[]"))))
    return net if member is None else net.member(member)


def describe(path: Path) -> list[str]:
    """One line per kept network: its name and the spec fields that say what it is."""
    out = []
    for name in names(path):
        with netCDF4.Dataset(path) as nc:
            spec = NetworkSpec.from_json(nc.groups[name].getncattr("spec"))
        ens = f", ensemble {spec.ensemble}" if spec.ensemble else ""
        out.append(
            f"{name}: {spec.scheme} d={spec.in_features} C={spec.width} L={spec.depth} "
            f"k={spec.out_features} {spec.activation}{ens}"
        )
    return out
