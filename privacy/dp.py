"""Differentially private released sizes through OpenDP (optional extra ``microseg[dp]``).

Each released segment size is a count with sensitivity 1 (one customer changes it by at most 1
per segment). Laplace noise gives ε-DP per count; Gaussian gives (ε, δ)-DP. Sizes are rounded
and floored at 0. Privacy budgets over several segments compose: the policy's ε is per count.
"""
from __future__ import annotations

import math

from microseg.errors import ConfigError


def _opendp():
    try:
        import opendp.prelude as dp
    except ImportError:
        raise ConfigError("differentially private counts need OpenDP: pip install 'microseg[dp]'",
                          key="privacy.dp") from None
    dp.enable_features("contrib")
    return dp


def noisy_counts(sizes: dict[str, int], *, epsilon: float, mechanism: str = "laplace", delta: float | None = None,
                 random_state: int | None = None) -> dict[str, int]:
    """Noisy versions of ``sizes`` (OpenDP samplers; ``random_state`` is not used by OpenDP,
    whose noise comes from a cryptographically secure source)."""
    if epsilon <= 0:
        raise ConfigError("epsilon must be > 0", key="privacy.dp.epsilon")
    dp = _opendp()
    space = dp.atom_domain(T=int), dp.absolute_distance(T=int)
    if mechanism == "laplace":
        meas = dp.m.make_laplace(*space, scale=1.0 / epsilon)
    elif mechanism == "gaussian":
        if not delta or not 0 < delta < 1:
            raise ConfigError("the Gaussian mechanism needs 0 < delta < 1", key="privacy.dp.delta")
        sigma = math.sqrt(2 * math.log(1.25 / delta)) / epsilon
        meas = dp.m.make_gaussian(*space, scale=sigma)
    else:
        raise ConfigError("mechanism must be 'laplace' or 'gaussian'", key="privacy.dp.mechanism")
    return {key: max(0, int(meas(int(v)))) for key, v in sizes.items()}
