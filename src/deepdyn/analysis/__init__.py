"""Analysis of networks as dynamical systems: linear regions (App. C), neurons and born-dead
networks (§8.1), norms of the states along depth (§8.1.3), geometry of layers (§7: Jacobians,
pullback metrics, Lyapunov exponents, invertibility) and exact embeddings (§6); beyond the
thesis: FTLE fields over input space, Lyapunov and Jacobian spectra, local complexity."""

from deepdyn.analysis._rates import loglog_fit
from deepdyn.analysis.born_dead import (
    BornDead,
    born_dead_bound,
    born_dead_probability,
    dead_on_domain_exact,
    draw_layers,
    first_dead_layer,
    wilson_interval,
)
from deepdyn.analysis.complexity import LocalComplexity, local_complexity
from deepdyn.analysis.embedding import deepen, widen
from deepdyn.analysis.ftle import FTLEField, ftle, ftle_field
from deepdyn.analysis.geometry import (
    determinants,
    draw_metric_ellipses,
    jacobians,
    lyapunov_exponents,
    metric_ellipses,
    pullback_metrics,
    singular_values,
)
from deepdyn.analysis.invertibility import (
    LayerCheck,
    check_layers,
    invert,
    invert_step,
    step_lipschitz,
)
from deepdyn.analysis.neurons import (
    GradientRecorder,
    dead_neurons,
    dead_neurons_exact,
    gradient_norms,
    saturation,
)
from deepdyn.analysis.norms import activation_norms, function_norms, quadrature_grid
from deepdyn.analysis.regions import (
    Regions,
    ReluNet,
    activation_patterns,
    count_linear_regions,
    count_patterns,
    linear_regions,
    relu_net,
    serra_bound,
    tent_map_layers,
    zaslavsky,
)
from deepdyn.analysis.spectra import (
    fuss_catalan_moments,
    jacobian_singular_values,
    lyapunov_spectrum,
)

__all__ = [
    "BornDead",
    "FTLEField",
    "GradientRecorder",
    "LayerCheck",
    "LocalComplexity",
    "Regions",
    "ReluNet",
    "activation_norms",
    "activation_patterns",
    "born_dead_bound",
    "born_dead_probability",
    "check_layers",
    "count_linear_regions",
    "count_patterns",
    "dead_neurons",
    "dead_neurons_exact",
    "dead_on_domain_exact",
    "deepen",
    "determinants",
    "draw_layers",
    "draw_metric_ellipses",
    "first_dead_layer",
    "ftle",
    "ftle_field",
    "function_norms",
    "fuss_catalan_moments",
    "gradient_norms",
    "invert",
    "invert_step",
    "jacobian_singular_values",
    "jacobians",
    "linear_regions",
    "local_complexity",
    "loglog_fit",
    "lyapunov_exponents",
    "lyapunov_spectrum",
    "metric_ellipses",
    "pullback_metrics",
    "quadrature_grid",
    "relu_net",
    "saturation",
    "serra_bound",
    "singular_values",
    "step_lipschitz",
    "tent_map_layers",
    "widen",
    "wilson_interval",
    "zaslavsky",
]
