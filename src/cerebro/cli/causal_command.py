"""`cerebro causal`: effects by adjustment (regression … dml) or by a design (did, rdd, iv, synthetic control)."""

from __future__ import annotations

from pathlib import Path

import typer

from cerebro.cli.common import (
    JSON_HELP,
    OUTPUT_HELP,
    PLOT_HELP,
    emit,
    run_fields,
    split_csv,
    user_errors,
)


def register(app: typer.Typer) -> None:
    @app.command("causal")
    @user_errors
    def causal_command(
        data: Path = typer.Argument(
            ..., help="Data file (CSV, Parquet or JSON), one row per unit."
        ),
        treatment: str | None = typer.Option(
            None,
            "--treatment",
            help="Treatment column (binary or multi-arm; did: treated group or 0/1 per period; "
            "rdd: take-up for a fuzzy design; iv: the endogenous regressor).",
        ),
        outcome: str = typer.Option(..., "--outcome", help="Outcome column (numeric or 0/1)."),
        confounders: str | None = typer.Option(
            None,
            "--confounders",
            help="Columns to adjust for, comma-separated; 'age^2' adds a square, 'C(x)' makes x "
            "categorical (text columns are categorical anyway). rdd/iv: exogenous controls.",
        ),
        method: str = typer.Option(
            "aipw",
            "--method",
            help="regression, gcomp, ipw, aipw, stratification, psm, dml; did, rdd, iv, "
            "synthetic_control.",
        ),
        estimand: str = typer.Option("ate", "--estimand", help="ate, att or atc."),
        treated: str | None = typer.Option(
            None, "--treated", help="The treated value of the treatment column (default 1/True)."
        ),
        control: str | None = typer.Option(
            None,
            "--control",
            help="The control / reference arm; with 3+ arms every other arm is compared with it.",
        ),
        weights: str = typer.Option("hajek", "--weights", help="IPW weights: hajek or ht."),
        trim: str | None = typer.Option(
            None, "--trim", help="Drop extreme propensities: a number c (keep [c, 1−c]) or crump."
        ),
        truncate: float | None = typer.Option(
            None, "--truncate", help="IPW: cap weights at this percentile (e.g. 99)."
        ),
        interactions: str | None = typer.Option(
            None,
            "--interactions",
            help="gcomp: one outcome model with treatment × these terms (default one model per arm).",
        ),
        neighbours: int = typer.Option(1, "--neighbours", help="psm: matches per unit (1:k)."),
        caliper: float | None = typer.Option(
            None,
            "--caliper",
            help="psm: largest distance in SDs of the propensity logit (e.g. 0.2).",
        ),
        replace: bool = typer.Option(
            True, "--replace/--no-replace", help="psm: match with replacement (needed for the ATE)."
        ),
        exact: str | None = typer.Option(
            None, "--exact", help="psm: columns whose values matches must share, comma-separated."
        ),
        dml_model: str = typer.Option(
            "irm",
            "--dml-model",
            help="dml: irm (interactive, AIPW score) or plr (partially linear).",
        ),
        learner: str = typer.Option(
            "lightgbm", "--learner", help="dml: lightgbm, hist_gb, random_forest or linear."
        ),
        propensity: str = typer.Option(
            "logistic",
            "--propensity",
            help="Propensity model: logistic or lightgbm (cross-fitted gradient boosting).",
        ),
        folds: int = typer.Option(
            5, "--folds", help="dml and --propensity lightgbm: cross-fitting folds."
        ),
        clip: float = typer.Option(
            0.01, "--clip", help="dml: clip propensities to [clip, 1−clip]."
        ),
        strata: int = typer.Option(
            5, "--strata", help="Stratification: propensity quantile strata."
        ),
        bootstrap: int = typer.Option(
            0, "--bootstrap", help="Bootstrap replicates (0: analytic SEs)."
        ),
        unit: str | None = typer.Option(None, "--unit", help="did/sc: unit (panel id) column."),
        time: str | None = typer.Option(None, "--time", help="did/sc: time period column."),
        post: str | None = typer.Option(
            None, "--post", help="did 2×2: 0/1 column marking post-treatment periods."
        ),
        treat_start: str | None = typer.Option(
            None, "--treat-start", help="did/sc: first treated period (a value of --time)."
        ),
        cluster: str | None = typer.Option(
            None, "--cluster", help="Cluster column for SEs (did: --unit by default)."
        ),
        did_model: str = typer.Option(
            "auto", "--did-model", help="did: auto, twfe, event_study or callaway_santanna."
        ),
        control_group: str = typer.Option(
            "never", "--control-group", help="did staggered: never or notyet treated controls."
        ),
        aggregation: str = typer.Option(
            "simple", "--aggregation", help="did staggered: simple, dynamic or group."
        ),
        leads: int | None = typer.Option(None, "--leads", help="did event study: pre-periods."),
        lags: int | None = typer.Option(None, "--lags", help="did event study: post-periods."),
        running_variable: str | None = typer.Option(
            None, "--running-variable", help="rdd: the running (score) column."
        ),
        cutoff: float = typer.Option(
            0.0, "--cutoff", help="rdd: threshold of the running variable."
        ),
        kernel: str = typer.Option(
            "triangular", "--kernel", help="rdd: triangular, uniform or epanechnikov."
        ),
        order: int = typer.Option(1, "--order", help="rdd: local polynomial order (1 or 2)."),
        bandwidth: float | None = typer.Option(
            None, "--bandwidth", help="rdd: bandwidth (default MSE-optimal)."
        ),
        instrument: str | None = typer.Option(
            None, "--instrument", help="iv: instrument column(s), comma-separated."
        ),
        iv_estimator: str = typer.Option("2sls", "--iv-estimator", help="iv: 2sls or liml."),
        iv_cov: str | None = typer.Option(
            None, "--iv-cov", help="iv: robust (default), unadjusted or clustered SEs."
        ),
        debiased: bool = typer.Option(
            False, "--debiased", help="iv: small-sample factor and t/F distributions (Stata-like)."
        ),
        treated_unit: str | None = typer.Option(
            None, "--treated-unit", help="synthetic_control: treated unit(s), comma-separated."
        ),
        sc_model: str = typer.Option(
            "adh", "--sc-model", help="synthetic_control: adh, augmented or sdid."
        ),
        jobs: int = typer.Option(
            1,
            "--jobs",
            help="Parallel workers (−1: every core) for the bootstrap and the cross-fitted learners; "
            "the numbers do not change.",
        ),
        alpha: float = typer.Option(0.05, "--alpha", help="1 − confidence level."),
        seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
        as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
        output: Path | None = typer.Option(None, "--output", "-o", help=OUTPUT_HELP),
        plot: Path | None = typer.Option(
            None,
            "--plot",
            help=PLOT_HELP
            + " (love plot; did: event study; rdd: RD plot; iv: first stage; sc: gap plot)",
        ),
    ) -> None:
        """Estimate a causal effect from observational data: adjust for confounders, or use a
        design (difference-in-differences, regression discontinuity, instruments, synthetic control)."""
        fields = {
            "kind": "causal",
            "data": str(data),
            "treatment": treatment,
            "outcome": outcome,
            "confounders": split_csv(confounders),
            "unit": unit,
            "time": time,
            "post": post,
            "treat_start": treat_start,
            "cluster": cluster,
            "did_model": did_model,
            "control_group": control_group,
            "aggregation": aggregation,
            "leads": leads,
            "lags": lags,
            "running_variable": running_variable,
            "cutoff": cutoff,
            "kernel": kernel,
            "order": order,
            "bandwidth": bandwidth,
            "instrument": split_csv(instrument),
            "iv_estimator": iv_estimator,
            "iv_cov": iv_cov,
            "debiased": debiased,
            "treated_unit": split_csv(treated_unit),
            "sc_model": sc_model,
            "method": method,
            "estimand": estimand,
            "treated": treated,
            "control": control,
            "weights": weights,
            "trim": trim,
            "truncate": truncate,
            "interactions": split_csv(interactions) if interactions is not None else None,
            "neighbours": neighbours,
            "caliper": caliper,
            "replace": replace,
            "exact": split_csv(exact),
            "dml_model": dml_model,
            "learner": learner,
            "propensity": propensity,
            "folds": folds,
            "clip": clip,
            "strata": strata,
            "bootstrap": bootstrap,
            "jobs": jobs,
            "alpha": alpha,
            "seed": seed,
        }
        result = run_fields(fields, f"estimating the effect in {data.name} …")
        emit(result, as_json, output, plot)
