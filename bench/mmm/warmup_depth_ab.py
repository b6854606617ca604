"""Cerebro alone, two source trees interleaved: `cerebro mmm --priors pymc-marketing` A, B, A, B.

Why: to measure one change of Cerebro's sampler on the same-model benchmark without the
PyMC-Marketing runs (`same_model_speed.py`'s `cerebro_run`, so the same command, ESS and
timings). Used for the warm-up tree-depth cap (A: depth 10 throughout, B: 8 in warm-up, 10 in
sampling); the source trees are exported copies, e.g. `git archive <commit> src | tar -x -C /tmp/a`.

    PYTHONPATH=src python bench/mmm/warmup_depth_ab.py /tmp/a/src /tmp/b/src \
        --output bench/results/mmm_same_model_warmup_depth_ab.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import same_model_speed as sms


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--output", type=Path, required=True)
    cli = p.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(2 * cli.rounds):
            label, src = ("A", cli.a) if i % 2 == 0 else ("B", cli.b)
            args = argparse.Namespace(data=sms.DATA, saturation="logistic", chains=4, draws=1000,
                                      warmup=1000, seed=0, target_accept=0.9, src=src)  # fmt: skip
            run = sms.cerebro_run(args, Path(tmp), i) | {"variant": label, "src": str(src)}
            run.pop("posterior", None)
            runs.append(run)
            print(label, sms.line(run), flush=True)
            cli.output.write_text(json.dumps({"runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
