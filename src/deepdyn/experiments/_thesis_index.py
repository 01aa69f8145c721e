"""The thesis, item by item: every figure and every numbered statement (definition, lemma,
proposition, theorem, corollary) of *Deep Learning as Dynamical Systems*, in the thesis' order,
with what deepdyn says about it.

An item is carried either by the claims of catalogue entries (``entries``: the entries'
``register_claims`` rows whose statement names the item's label give its verdict, and in a
report the verdict that run reproduced) or, for what no entry measures, by a fixed ``verdict``
with ``where`` — the code that implements a definition, the tests that check a lemma on the
library, or the reason an item cannot be checked (a diagram of a concept). The report's
"The thesis, item by item" table and the generated docs/theory-checks.md both read this list,
so the two cannot disagree; tests keep every label here matched by a claim and every label a
claim names listed here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from deepdyn.experiments._claims import VERDICTS, Claim, _value, all_claims, claims, status

# The kinds of numbered items, their canonical abbreviations and the words that name them.
_KINDS = {
    "Fig": ("Fig", "Figure", "Figs"),
    "Def": ("Def", "Definition", "Defs"),
    "Lemma": ("Lemma", "Lemmas"),
    "Prop": ("Prop", "Proposition", "Props"),
    "Thm": ("Thm", "Theorem", "Thms"),
    "Cor": ("Cor", "Corollary"),
}
_WORD = {w: k for k, ws in _KINDS.items() for w in ws}
_NUM = r"[0-9A-D]+(?:\.[0-9]+)+"
_LABELS = re.compile(
    r"\b(" + "|".join(sorted(_WORD, key=len, reverse=True)) + r")\.?\s+"
    r"(" + _NUM + r"(?:\s*(?:,|–|-|and)\s*" + _NUM + r")*)"
)


def labels(text: str) -> tuple[str, ...]:
    """The canonical labels ("Fig 8.3", "Thm 8.1.2") a text names: "Fig 8.3–8.5" is three,
    "Fig 1.1, 3.1" two, "Prop. 6.2.1" one; in order of appearance, without repeats."""
    out: list[str] = []
    for m in _LABELS.finditer(text):
        kind = _WORD[m.group(1)]
        parts = re.split(r"\s*(,|–|-|and)\s*", m.group(2))
        nums: list[str] = []
        i = 0
        while i < len(parts):
            num = parts[i]
            if i >= 2 and parts[i - 1] in ("–", "-"):
                a, b = nums[-1].rsplit(".", 1), num.rsplit(".", 1)
                if a[0] == b[0] and a[1].isdigit() and b[1].isdigit():
                    nums += [f"{a[0]}.{k}" for k in range(int(a[1]) + 1, int(b[1]) + 1)]
                else:
                    nums.append(num)
            else:
                nums.append(num)
            i += 2
        for num in nums:
            label = f"{kind} {num}"
            if label not in out:
                out.append(label)
    return tuple(out)


@dataclass(frozen=True)
class Item:
    label: str  # canonical: "Fig 8.1", "Thm 8.1.2"
    section: str  # where it is: "§8.1.2", "App. C"
    says: str  # what it says, in our words
    entries: tuple[str, ...] = ()  # catalogue entries whose claims carry it
    verdict: str = ""  # for an item no entry carries: a verdict, or "implemented", ...
    where: str = ""  # ... and the code, the tests (tests/file.py::name) or the reason

    def __post_init__(self) -> None:
        if bool(self.entries) == bool(self.verdict):
            raise ValueError(f"{self.label}: give entries or a verdict, not both or neither")
        if self.verdict and self.verdict not in (*VERDICTS, "implemented"):
            raise ValueError(f'{self.label}: verdict "{self.verdict}" unknown')


def _i(label, section, says, *entries, verdict="", where=""):  # type: ignore[no-untyped-def]
    return Item(label, section, says, tuple(entries), verdict, where)


_NOTHING = "a diagram of ideas: nothing to compute or measure"

ITEMS: tuple[Item, ...] = (
    # Part I — chapters 1–5
    _i("Fig 1.1", "§1", "a shallow network, one hidden layer, three inputs", "thesis-figures"),
    _i("Fig 1.2", "§1", "the paradigms of supervised learning", "thesis-figures"),
    _i("Fig 2.1", "§2", "how deep learning, dynamical systems and control meet", "thesis-figures"),
    _i("Fig 3.1", "§3", "an MLP: 2 inputs, 4 components per layer, 1 output", "thesis-figures"),
    _i("Fig 5.1", "§5", "the activation functions", "thesis-figures"),
    _i(
        "Def 5.0.1",
        "§5",
        "supervised deep learning: network and classifier weights that minimize the "
        "empirical loss plus a regularizer",
        "train",
    ),
    # Chapter 6 — capacity
    _i(
        "Def 6.1.1",
        "§6.1",
        "the representation space: the functions one architecture realizes over its weights",
        verdict="implemented",
        where="`NetworkSpec` fixes the architecture; `build(spec)` gives a point of the space, "
        "its parameters the coordinates",
    ),
    _i(
        "Def 6.1.2",
        "§6.1",
        "the hypothesis space H[C, L] of ReLU networks with C components and L layers",
        verdict="implemented",
        where='`MLP(d, C, L, activation="relu")`; capacity-approximation and '
        "capacity-reachability sweep C and L",
    ),
    _i(
        "Lemma 6.1.1",
        "§6.1",
        "H[C, L] ⊆ H[C + 1, L]: more components never lose a function",
        verdict="confirmed",
        where="a width-C net is the width-(C+1) net with a zero unit, exactly: "
        "tests/test_hypothesis_spaces.py::test_more_components_is_a_larger_space",
    ),
    _i(
        "Lemma 6.1.2",
        "§6.1",
        "H[C, L] ⊆ H[C, L + 1]: more layers never lose a function",
        verdict="confirmed",
        where="after a ReLU layer relu(I z) = z, so an inserted layer changes nothing, exactly: "
        "tests/test_hypothesis_spaces.py::test_more_layers_is_a_larger_space_for_relu",
    ),
    _i(
        "Cor 6.1.1",
        "§6.1",
        "H[C, L] ⊆ H[C′, L′] for C′ ≥ C, L′ ≥ L; the same for tanh and sigmoid",
        verdict="corrected",
        where="for ReLU it follows from the two lemmas; for tanh and sigmoid no layer is the "
        "identity, so the inclusion holds only in the closure: tanh(εz)/ε → z with error ∝ ε², "
        "never 0 (tests/test_hypothesis_spaces.py::"
        "test_for_tanh_the_inclusion_holds_only_in_the_closure; docs/thesis-notes.md §17)",
    ),
    _i(
        "Thm 6.1.1",
        "§6.1",
        "Cybenko: one hidden layer of a bounded sigmoidal σ approximates C⁰([0,1]^d)",
        "capacity-approximation",
    ),
    _i(
        "Thm 6.1.2",
        "§6.1",
        "Poggio et al.: the width a smooth σ needs for a given accuracy",
        "capacity-approximation",
    ),
    _i(
        "Thm 6.1.3",
        "§6.1",
        "Hanin: deep ReLU nets of width d + 3 approximate continuous functions",
        "capacity-flows",
    ),
    _i(
        "Prop 6.1.1",
        "§6.1",
        "universal approximation: some width and depth reach any accuracy",
        "capacity-approximation",
    ),
    _i(
        "Lemma 6.2.1",
        "§6.2",
        "1-D flows with the identity readout are increasing maps",
        "flow-increasing",
    ),
    _i(
        "Prop 6.2.1",
        "§6.2",
        "1-D ReLU flows approximate any increasing function",
        "capacity-flows",
    ),
    _i(
        "Thm 6.2.1",
        "§6.2",
        "Li, Lin & Shen: flows in dimension n ≥ 2 with a Lipschitz readout approximate "
        "continuous maps",
        "capacity-flows",
        "flow-increasing",
    ),
    # Chapter 7 — layers as transformations
    _i(
        "Thm 7.1.1",
        "§7.1",
        "a square layer with non-singular W and a continuous, continuously invertible σ is "
        "a homeomorphism",
        "layers-geometry",
        "flow-ring-dimension",
    ),
    _i("Cor 7.1.1", "§7.1", "a composition of such layers is a homeomorphism", "layers-geometry"),
    _i("Fig 7.1", "§7.1", "an MLP with 2 inputs and blocks of width 2", "thesis-figures"),
    _i(
        "Fig 7.2",
        "§7.2",
        "coordinate systems induced by the layers and the pullback metric",
        "layers-geometry",
    ),
    _i(
        "Def 7.2.1",
        "§7.2",
        "topological manifold",
        verdict="not checkable",
        where="a definition from topology; deepdyn works in the coordinates of ℝⁿ that the "
        "layers produce",
    ),
    _i(
        "Def 7.2.2",
        "§7.2",
        "coordinate system: a homeomorphism onto an open set of ℝⁿ",
        verdict="not checkable",
        where="a definition; whether a layer is one is Thm 7.1.1's question (layers-geometry)",
    ),
    _i(
        "Prop 7.2.1",
        "§7.2",
        "a feed-forward layer maps coordinates as x ↦ f(x; l) (not bijective with ReLU)",
        verdict="implemented",
        where='`scheme="map"` (MLPs); a ReLU layer folding the plane is measured by '
        "layers-geometry",
    ),
    _i("Prop 7.2.2", "§7.2", "a ResNet maps coordinates as x ↦ x + f(x; l)", "resnet-ode"),
    _i(
        "Lemma 7.2.1",
        "§7.2",
        "ResNet coordinates are global: a residual network is bijective, even with ReLU",
        "layers-geometry",
        "flow-ring-dimension",
    ),
    _i(
        "Def 7.2.3",
        "§7.2",
        "the softmax transformation",
        verdict="implemented",
        where='`Readout(terminal="softmax")` (`MLP(..., readout="softmax")`), trained with '
        "cross-entropy",
    ),
    _i(
        "Fig 7.3",
        "§7.3",
        "a scheme with the caption of Fig 7.1, in the ODE limit of ResNets",
        "thesis-figures",
    ),
    _i(
        "Fig 7.4",
        "§7.3",
        "a scheme with the caption of Fig 7.1, in the ODE limit of ResNets",
        "thesis-figures",
    ),
    # Chapter 8 — trainability
    _i(
        "Def 8.1.1",
        "§8.1",
        "a dead neuron: a ReLU unit that is 0 on the whole input space",
        verdict="implemented",
        where="`analysis.dead_neurons` (on data), `analysis.dead_neurons_exact` (on an interval "
        "or a box); tests/test_neurons.py::test_dead_on_data_versus_dead_on_the_interval",
    ),
    _i(
        "Lemma 8.1.1",
        "§8.1",
        "a dead neuron gets no gradient: its state is absorbing",
        verdict="confirmed",
        where="every parameter before and in a dead layer gets exactly 0 gradient: "
        "tests/test_neurons.py::test_gradients_vanish_before_a_dead_layer",
    ),
    _i(
        "Lemma 8.1.2",
        "§8.1",
        "a dead neuron can recover when the layer below moves its inputs",
        verdict="confirmed",
        where="a dead unit with zero gradient is alive after 200 SGD steps: "
        "tests/test_neurons.py::test_a_dead_neuron_can_recover",
    ),
    _i(
        "Prop 8.1.1",
        "§8.1",
        "a dead neuron lowers the dimension of what the next layers see",
        verdict="confirmed",
        where="the states after the layer lose one rank, the next layer's weights on the unit "
        "change nothing: tests/test_hypothesis_spaces.py::"
        "test_a_dead_unit_removes_a_dimension_from_the_next_layers_input",
    ),
    _i(
        "Lemma 8.1.3",
        "§8.1.2",
        "born dead on a domain ⇔ some hidden layer is all zero on it",
        "born-dead",
    ),
    _i(
        "Thm 8.1.1",
        "§8.1.2",
        "deep narrow ReLU nets are born dead with probability → 1",
        "born-dead",
    ),
    _i(
        "Thm 8.1.2",
        "§8.1.2",
        "P(born dead) ≤ 1 − ∏(1 − 2^(−N_l)) for symmetric weights and biases",
        "born-dead",
    ),
    _i("Cor 8.1.1", "§8.1.2", "P(born dead) → 1 as L → ∞ and → 0 as N → ∞", "born-dead"),
    _i(
        "Thm 8.1.3",
        "§8.1.2",
        "a born-dead network trains to the best constant function",
        "born-dead",
        "dying-relu",
    ),
    _i("Fig 8.1", "§8.1.2.1", "the dissipative effect, C = 2, L = 15", "dying-relu"),
    _i("Fig 8.2", "§8.1.2.1", "the effect of the number of layers, C = 2", "dying-relu"),
    _i(
        "Fig 8.3",
        "§8.1.3",
        "L² norm of the states of 15-layer MLPs, C = 2, against γ",
        "init-norms",
    ),
    _i("Fig 8.4", "§8.1.3", "the same, C = 3", "init-norms"),
    _i("Fig 8.5", "§8.1.3", "the same, C = 4", "init-norms"),
    _i("Fig 8.6", "§8.1.3", "the effect of initialization across MLP architectures", "init-norms"),
    _i("Def 8.2.1", "§8.2", "a skip connection: z_l depends on z_(l−q) directly", "skip-gradients"),
    _i("Fig 8.7", "§8.2", "skip connections in ResNets", "thesis-figures"),
    _i("Fig 8.8", "§8.2", "a ResNet with 2 inputs and blocks of width 2", "thesis-figures"),
    # Chapter 9 — mean-field optimal control
    _i(
        "Thm 9.1.1",
        "§9.1",
        "mean-field PMP: at an optimum each θ_l maximizes the expected Hamiltonian",
        "control-mean-field",
    ),
    _i(
        "Def 9.1.1",
        "§9.1",
        "the closed ball S_ρ(x) in the parameter space",
        verdict="not checkable",
        where="a definition (the neighbourhood Thm 9.1.2 speaks of)",
    ),
    _i(
        "Thm 9.1.2",
        "§9.1.1",
        "the sampled PMP has a solution θᴺ near a stable θ*, with an exponential tail",
        "control-risk",
    ),
    _i(
        "Thm 9.1.3",
        "§9.1.2",
        "for small T (H strongly concave in θ) the PMP solution is unique",
        "control-mean-field",
    ),
    _i(
        "Thm 9.2.1",
        "§9.2",
        "the value function solves the mean-field HJB equation (dynamic programming)",
        "control-mean-field",
    ),
    # Chapter 10 — classification
    _i(
        "Def 10.0.1",
        "§10",
        "a classification problem: supervised learning with a discrete target",
        verdict="implemented",
        where="`data.rings` and the other labelled data sets; `fit(..., loss='bce' | 'ce')`",
    ),
    _i(
        "Prop 10.0.1",
        "§10",
        "a continuous network misfits noiseless labels of several classes somewhere",
        "flow-classification",
    ),
    _i(
        "Prop 10.0.2",
        "§10",
        "binary classification = a transport problem plus a margin classifier",
        verdict="not checkable",
        where="a way of looking at the problem: every deepdyn network is built this way "
        "(lift → flow, the transport → readout, the margin classifier); there is no "
        "quantity to measure",
    ),
    _i("Fig 10.1", "§10.1", "the ring data, 1000 samples", "thesis-figures"),
    _i(
        "Prop 10.1.1",
        "§10.1",
        "two compact classes at positive distance are separable after a homeomorphism of "
        "dimension N + 1",
        "flow-ring-dimension",
    ),
    _i(
        "Fig 10.2",
        "§10.1",
        "level sets of trained architectures on the rings",
        "flow-classification",
    ),
    _i("Fig 10.3", "§10.1", "level sets of a tanh MLP, width 2, 4 layers", "flow-classification"),
    _i("Fig 10.4", "§10.1", "the same for another seed", "flow-classification"),
    # Appendices
    _i(
        "Prop A.1.1",
        "App. A.1",
        "steepest descent lowers the loss for a small enough step",
        "optimization-basics",
    ),
    _i("Fig A.1", "App. A.2", "level sets of a ReLU MLP, width 2, 4 layers", "flow-classification"),
    _i(
        "Thm C.1.1",
        "App. C",
        "Serra et al.'s upper bound on the number of linear regions",
        "linear-regions",
    ),
    _i(
        "Def C.1.1",
        "App. C",
        "reachability spaces of a target g for C components and L layers",
        "capacity-reachability",
    ),
    _i(
        "Def C.1.2",
        "App. C",
        "a complexity measure: its supremum grows with L and C",
        "capacity-reachability",
    ),
    _i(
        "Fig C.1",
        "App. C",
        "reachability of the oscillating f_m against the number of components",
        "capacity-reachability",
    ),
    _i("Fig D.1", "App. D", "grid deformation, tanh MLP, 4 layers", "flow-classification"),
    _i("Fig D.2", "App. D", "level sets, tanh MLP, width 2, 4 layers", "flow-classification"),
    _i("Fig D.3", "App. D", "grid deformation, ReLU MLP, width 2, 4 layers", "flow-classification"),
    _i("Fig D.4", "App. D", "level sets, ReLU MLP, width 2, 4 layers", "flow-classification"),
    _i(
        "Fig D.5",
        "App. D",
        "grid deformation, level sets and propagation, ReLU ResNet, 50 layers",
        "flow-classification",
    ),
    _i(
        "Fig D.6",
        "App. D",
        "grid deformation, level sets and propagation, tanh ResNet, 50 layers",
        "flow-classification",
    ),
)

_PARTS = {
    "6": "Chapter 6 — capacity and approximation",
    "7": "Chapter 7 — layers as transformations",
    "8": "Chapter 8 — trainability",
    "9": "Chapter 9 — mean-field optimal control",
    "10": "Chapter 10 — classification",
    "A": "Appendix A — optimization",
    "C": "Appendix C — linear regions and reachability",
    "D": "Appendix D — experimental results",
}
_PART_I = "Part I — introduction, learning and dynamical systems (chapters 1–5)"


def part(it: Item) -> str:
    """The chapter (or appendix, or Part I for chapters 1–5) the item belongs to."""
    return _PARTS.get(it.label.split()[1].split(".")[0], _PART_I)


def item(label: str) -> Item:
    for it in ITEMS:
        if it.label == label:
            return it
    raise KeyError(f'"{label}" is not a numbered item of the thesis')


def carrying_claims(it: Item) -> list[tuple[str, Claim]]:
    """The (entry, claim) pairs whose statement names the item."""
    return [(eid, c) for eid in it.entries for c in claims(eid) if it.label in labels(c.statement)]


def row(it: Item, numbers: Mapping[str, Mapping[str, float]] | None = None) -> tuple[str, str]:
    """(verdict, where) of an item; with ``numbers`` (entry id → a run's key numbers), the
    verdicts of the entries that ran are the ones that run reproduced."""
    if it.verdict:
        return it.verdict, it.where
    verdicts, where = [], []
    for eid, c in carrying_claims(it):
        v = status(c, numbers[eid]) if numbers is not None and eid in numbers else c.verdict
        if v not in verdicts:
            verdicts.append(v)
        where.append(f"`{eid}`: {c.measured}")
    if not verdicts:
        return "not measured", "no claim of " + ", ".join(f"`{e}`" for e in it.entries)
    return " / ".join(verdicts), "; ".join(where)


def index_markdown() -> str:
    """docs/theory-checks.md: the thesis item by item (docs/theory-claims.md has the entries'
    claim tables)."""
    counts: dict[str, int] = {}
    for it in ITEMS:
        v = row(it)[0]
        counts[v] = counts.get(v, 0) + 1
    tally = ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    lines = [
        "# Theory checks: the thesis, item by item",
        "",
        "Generated by `deepdyn.experiments.index_markdown` from the thesis index",
        "(`deepdyn/experiments/_thesis_index.py`) and the catalogue entries' claims (listed entry",
        "by entry, with their key numbers, in [theory-claims.md](theory-claims.md)); the report",
        "of `deepdyn reproduce` shows the same rows with the verdicts its own run reproduced. A",
        "test keeps this page equal to the generated text.",
        "",
        f"Every figure and numbered statement of the thesis ({len(ITEMS)} items): {tally}.",
        "Verdicts: **confirmed** (holds as written), **refuted** (does not), **corrected** (holds",
        "in the form stated here), **reproduced** (a figure regenerated), **implemented** (a",
        "definition, and the code that realizes it), **not checkable** (with the reason).",
        "Where the thesis is wrong or loose: [thesis-notes.md](thesis-notes.md); the measurements",
        "in detail: [trainability and regions](theory-checks-trainability.md),",
        "[geometry](theory-checks-geometry.md), [optimal control](optimal-control.md).",
        "",
    ]
    current = None
    for it in ITEMS:
        if part(it) != current:
            current = part(it)
            lines += [
                *([""] if current != part(ITEMS[0]) else []),
                f"## {current}",
                "",
                "| item | what it says | verdict | where deepdyn checks it |",
                "| --- | --- | --- | --- |",
            ]
        verdict, where = row(it)
        cells = [f"{it.label} ({it.section})", it.says, f"**{verdict}**", where]
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    lines.append("")
    return "\n".join(lines)


def _where_html(it: Item, numbers: Mapping[str, Mapping[str, float]]) -> str:
    e = html.escape
    if it.verdict:
        return e(it.where.replace("`", ""))
    parts: list[str] = []
    for eid, c in carrying_claims(it):
        if eid not in numbers:  # the entry did not run here: its name, not its measurements
            part = f"{e(eid)} (not in this report)"
            if part not in parts:
                parts.append(part)
            continue
        nums = numbers[eid]
        shown = "; ".join(f"{k} = {_value(nums[k])}" for k in c.numbers if k in nums)
        link = f'<a href="#{e(eid)}">{e(eid)}</a>'
        parts.append(f"{link}: {e(c.measured)}" + (f" — {e(shown)}" if shown else ""))
    return "<br>".join(parts) or e(row(it)[1].replace("`", ""))


def index_html(numbers: Mapping[str, Mapping[str, float]]) -> str:
    """The report's table of every thesis item; ``numbers`` are the run's key numbers by entry
    (an item whose entries are not in the report shows their registered verdict, marked "not
    in this report")."""
    rows = []
    for it in ITEMS:
        verdict, _ = row(it, numbers)
        if it.entries and not any(e in numbers for e in it.entries):
            verdict += " (not in this report)"
        cls = html.escape(verdict.split()[0])
        rows.append(
            f"<tr><td>{html.escape(it.label)}</td><td>{html.escape(it.says)}</td>"
            f'<td class="verdict {cls}">{html.escape(verdict)}</td>'
            f"<td>{_where_html(it, numbers)}</td></tr>"
        )
    head = (
        "<tr><th>item</th><th>what it says</th><th>verdict</th>"
        "<th>where deepdyn checks it</th></tr>"
    )
    return (
        '<div id="thesis-index" class="thesis-index"><h2>The thesis, item by item</h2>'
        f'<table class="claims index">{head}{"".join(rows)}</table></div>'
    )


def unmatched() -> list[str]:
    """Problems between the index and the claims: an item whose entries register no claim
    naming it, or a claim naming a label that is not an item of the index."""
    problems = [
        f"{it.label}: no claim of {it.entries}"
        for it in ITEMS
        if it.entries and not carrying_claims(it)
    ]
    known = {it.label for it in ITEMS}
    for eid, cs in all_claims().items():
        for c in cs:
            for lab in labels(c.statement):
                if lab not in known:
                    problems.append(f"{eid}: claim names {lab}, not an item of the thesis")
                elif eid not in item(lab).entries:
                    lists = item(lab).entries
                    problems.append(f"{eid}: claim names {lab}, whose item lists {lists}")
    return problems


def write_docs(docs: str = "docs") -> None:
    """Regenerate docs/theory-checks.md and docs/theory-claims.md (``make claims``)."""
    from pathlib import Path

    from deepdyn.experiments import catalogue
    from deepdyn.experiments._claims import claims_markdown

    out = Path(docs)
    (out / "theory-checks.md").write_text(index_markdown() + "\n", encoding="utf-8")
    order = [e.id for e in catalogue()]
    (out / "theory-claims.md").write_text(claims_markdown(order) + "\n", encoding="utf-8")
