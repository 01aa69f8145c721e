"""deepdyn — deep learning as dynamical systems.

A network is a discrete dynamical system: layers are time steps, weights are controls.
"""

from deepdyn import data
from deepdyn.dynamics import MLP, Network, NeuralODE, ResNet
from deepdyn.train import fit
from deepdyn.trajectory import History, Trajectory

__all__ = ["MLP", "History", "Network", "NeuralODE", "ResNet", "Trajectory", "data", "fit"]
