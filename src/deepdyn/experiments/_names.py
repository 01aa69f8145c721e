"""Readable names and units for the entries' key numbers.

Key numbers are stored under compact names (``rings_E-MSA_rho5_seconds_per_iteration``,
``born_dead_share_mlp_C4``) that numbers.json, claims and tests use. The report shows them as
words with their parameters written out and a unit: "rings, E-MSA, ρ = 5, seconds per
iteration" in s, "born dead share, MLP, C = 4" as a fraction.
"""

from __future__ import annotations

import re

_WORDS = {
    "mlp": "MLP",
    "resnet": "ResNet",
    "ode": "ODE",
    "mse": "MSE",
    "rms": "RMS",
    "nfe": "NFE",
    "dp": "DP",
    "pmp": "PMP",
    "gd": "GD",
    "emsa": "E-MSA",
    "ci": "CI",
    "lip": "Lip",
    "bellman": "Bellman",
    "hamiltonian": "Hamiltonian",
    "lyapunov": "Lyapunov",
    "newton": "Newton",
    "gaussian": "Gaussian",
    "isotonic": "isotonic",
    "fuss": "Fuss–",
    "catalan": "Catalan",
    "he": "He",
    "rai": "RAI",
    "gamma": "γ",
    "theta": "θ",
    "lambda": "λ",
    "nu": "ν",
    "over": "/",
    "minus": "−",
    "plus": "+",
    "vs": "vs",
    "p50": "median",
    "adam": "Adam",
    "minibatch": "mini-batch",
    "online": "on-line",
    "sin1d": "sin (1-D)",
    "sincos2d": "sin·cos (2-D)",
    "abs": "|·|",
}
# a parameter glued to its value: L15, C2, N400, T1, M256, m3, d2, rho5, noise0.1, width4, ...
_PARAM = re.compile(r"^(L|C|N|T|M|m|d|h|q|rho|noise|width|depth|moment|tol)(\d[\d.]*)$")
_SYMBOL = {"rho": "ρ", "noise": "noise", "width": "width", "depth": "depth", "moment": "moment"}
_NET = re.compile(r"^(mlp|resnet|ode|flow|tanh)(\d+)$")  # mlp2: the MLP of width / dimension 2


def _token(t: str) -> str:
    if t in _WORDS:
        return _WORDS[t]
    m = _PARAM.match(t)
    if m:
        name, value = m.groups()
        if name in ("noise", "width", "depth", "moment"):
            return f"{name} {value}"
        return f"{_SYMBOL.get(name, name)} = {value}"
    m = _NET.match(t)
    if m:
        net, n = m.groups()
        return f"{_WORDS.get(net, net)} ({n})"
    return t


def unit(key: str) -> str:
    """The unit of a key number: "s", "MiB", "fraction" (0 … 1) or "" (a pure number)."""
    parts = key.split("_")
    if {"ratio", "over", "slope"} & set(parts):
        return ""
    if "seconds" in parts:
        return "s"
    if "MiB" in parts:
        return "MiB"
    if {"share", "accuracy", "fraction", "probability"} & set(parts):
        return "fraction"
    return ""


_MARKERS = {
    "MLP", "ResNet", "ODE", "E-MSA", "MSA", "Adam", "SGD", "Adagrad", "GD", "Newton",
    "euler", "heun", "leapfrog", "rk4", "tanh", "relu", "leaky-relu", "sigmoid", "softplus",
    "identity", "rings", "toy", "moons", "He", "RAI", "uniform", "gaussian", "orthogonal",
}  # fmt: skip


def _marker(word: str) -> bool:
    return word in _MARKERS or " = " in word or "(" in word or word.split()[0] in _SYMBOL


def readable(key: str) -> str:
    """The key number's name in words, its parameters written out: each parameter, network,
    method or data set is a comma-separated part of its own."""
    tokens = key.replace("leaky_relu", "leaky-relu").split("_")
    parts: list[list[str]] = [[]]
    for t in tokens:
        if not t or t == "MiB":
            continue
        w = _token(t)
        if _marker(w):
            parts += [[w], []]
        else:
            parts[-1].append(w)
    text = ", ".join(" ".join(p) for p in parts if p)
    return text[:1].upper() + text[1:] if "a" <= text[:1] <= "z" else text
