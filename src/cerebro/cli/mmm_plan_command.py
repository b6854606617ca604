"""`cerebro mmm-optimize` and `cerebro mmm-predict`: a saved media mix model (`cerebro mmm
--save`) used for the weeks after its data.

Their options are the fields of `MMMOptimizeSpec` and `MMMPredictSpec`
(`cerebro.cli.spec_options`), the model file first; `--plan-output` is a file the run returns
in memory and the command writes with its other outputs (`--json`, `--output`, `--plot`).
"""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.spec_options import spec_command
from cerebro.mmm.plan_spec import MMMOptimizeSpec, MMMPredictSpec


def register(app: typer.Typer) -> None:
    spec_command(
        app,
        "mmm-optimize",
        MMMOptimizeSpec,
        message=lambda fields: f"optimising the budget with {Path(fields['model']).name} …",
        figures=" (spend per channel, expected KPI of both plans)",
        help="Split a budget over the weeks after a saved media mix model's data across its "
        "channels: optimal spend, expected KPI current vs optimal and the uplift, with credible "
        "intervals.\n\nThe current plan is the last --periods fitted weeks' spend; each channel "
        "keeps its weekly pattern and only its total moves.",
    )
    spec_command(
        app,
        "mmm-predict",
        MMMPredictSpec,
        message=lambda fields: f"predicting {Path(fields['plan'] or '').name} …",
        figures=" (KPI over the weeks, the plan's with its credible band)",
        help="What-if: the KPI a saved media mix model predicts under a spend plan for the "
        "weeks after its data, with credible intervals, the incremental KPI and the plan's "
        "ROI.\n\nThe plan starts the week after the model's last week; the spend of the last "
        "weeks carries over into it.",
    )
