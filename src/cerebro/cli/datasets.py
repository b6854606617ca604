"""`cerebro datasets saas|staggered|rdd|iv|mmm`: write a synthetic data set and its true effects."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import typer
from rich.table import Table

from cerebro.cli.common import status, stderr, stdout, user_errors, write_atomically
from cerebro.core.errors import UserInputError


def write_table(frame, path: Path) -> None:
    """Write CSV or Parquet by extension, atomically (temporary file, then rename)."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise UserInputError(f"cannot write {path.name!r}; use a .csv or .parquet name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            pa_csv.write_csv(table, tmp)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def truth_table(truth: dict) -> Table:
    table = Table(title="True effects vs A_control (per user-day)", title_justify="left")
    for column in ("metric", "variant", "control mean", "absolute", "relative"):
        table.add_column(column, justify="left" if column in ("metric", "variant") else "right")
    for metric, by_variant in truth["effects"].items():
        for variant, effect in by_variant.items():
            table.add_row(
                metric,
                variant,
                f"{effect['control_mean']:.4g}",
                f"{effect['absolute']:+.4g}",
                f"{100 * effect['relative']:+.2f}%",
            )
    return table


def _two_lifts(text: str, flag: str) -> tuple[float, float]:
    """'0.15,0.25' as two numbers, or one sentence naming the flag."""
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != 2:
        raise UserInputError(f"{flag} takes two numbers separated by a comma (e.g. 0.15,0.25).")
    return values  # type: ignore[return-value]


# Every data set takes these two (one definition; typer reads an option's metadata only).
OUTPUT = typer.Option(..., "--output", "-o", help="Where to write (.csv or .parquet).")
SEED = typer.Option(0, "--seed", help="Random seed; the same seed gives the same data.")


def _save(frame, truth: dict, output: Path, what: str) -> None:
    """Write a data set and its truth beside it (`<name>_truth.json`)."""
    with status(f"writing {output} …"):
        write_table(frame, output)
        truth_path = output.with_name(output.stem + "_truth.json")
        write_atomically(truth_path, json.dumps(truth, indent=2) + "\n")
    stderr.print(
        f"wrote {len(frame):,} rows ({what}) to {output}; the truth in {truth_path}",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    datasets_app = typer.Typer(
        help="Example data sets with known true effects.", no_args_is_help=True
    )
    app.add_typer(datasets_app, name="datasets")

    @datasets_app.command("saas")
    @user_errors
    def saas(
        output: Path = OUTPUT,
        seed: int = SEED,
        users: int = typer.Option(50_000, "--users", min=3, help="Number of users."),
        days: int = typer.Option(30, "--days", min=1, help="Days per user."),
        revenue_lift: str = typer.Option(
            "0.15,0.25",
            "--revenue-lift",
            help="Average relative revenue lift of B_adaptive_v1 and C_adaptive_v2 (two numbers).",
        ),
        retention_lift: str = typer.Option(
            "0.10,0.18",
            "--retention-lift",
            help="Relative lift of 7-day retention of B_adaptive_v1 and C_adaptive_v2.",
        ),
        heterogeneity: float = typer.Option(
            1.3,
            "--heterogeneity",
            help="Spread (log scale, 0–3) of each user's revenue effect, driven by baseline "
            "productivity, churn risk and tenure; 0: the same relative lift for everyone.",
        ),
    ) -> None:
        """The SaaS AI-assistant experiment: users × days rows, three cohorts, known effects.

        Also writes the true effects to <name>_truth.json beside the data. The defaults tell
        the usual story: revenue +15% (B) and +25% (C), retention +10% and +18%, the top 20% of
        users by effect gaining about 3.8× the average.
        """
        from cerebro.data.synthetic import SaasEffects, saas_experiment

        try:
            effects = SaasEffects(
                revenue_lift=_two_lifts(revenue_lift, "--revenue-lift"),
                retention_lift=_two_lifts(retention_lift, "--retention-lift"),
                heterogeneity=heterogeneity,
            )
        except ValueError as err:
            raise UserInputError(f"{err}.") from None
        with status(f"generating {users:,} users × {days} days …"):
            frame, truth = saas_experiment(n_users=users, n_days=days, seed=seed, effects=effects)
        with status(f"writing {output} …"):
            write_table(frame, output)
            truth_path = output.with_name(output.stem + "_truth.json")
            write_atomically(truth_path, json.dumps(truth, indent=2) + "\n")
        stderr.print(
            f"wrote {len(frame):,} rows ({users:,} users × {days} days, seed {seed}) to {output}; "
            f"true effects in {truth_path}",
            highlight=False,
        )
        stdout.print(truth_table(truth))

    @datasets_app.command("staggered")
    @user_errors
    def staggered(
        output: Path = OUTPUT,
        seed: int = SEED,
        units: int = typer.Option(400, "--units", min=10, help="Number of units."),
        periods: int = typer.Option(8, "--periods", min=3, help="Number of periods."),
    ) -> None:
        """A staggered-adoption panel (unit, period, treated, sales) with dynamic effects; try
        `cerebro causal FILE --method did --treatment treated --outcome sales --unit unit --time period`."""
        from cerebro.quasi.did.synthetic import staggered_panel

        cohorts = tuple(c for c in (2, 4, 6) if c < periods) or (periods - 1,)
        frame, truth = staggered_panel(units, periods, cohorts, seed=seed)
        _save(
            frame,
            {
                "simple_att": truth.simple,
                "dynamic": {str(e): v for e, v in truth.dynamic.items()},
                "att_gt": [
                    {"cohort": g, "period": t, "att": v} for (g, t), v in truth.att_gt.items()
                ],
            },
            output,
            f"{units:,} units × {periods} periods, seed {seed}",
        )

    @datasets_app.command("rdd")
    @user_errors
    def rdd(
        output: Path = OUTPUT,
        seed: int = SEED,
        rows: int = typer.Option(5000, "--rows", min=100, help="Number of rows."),
        fuzzy: bool = typer.Option(False, "--fuzzy", help="Imperfect take-up (column takeup)."),
    ) -> None:
        """A regression discontinuity at score = 0 with a known jump; try
        `cerebro causal FILE --method rdd --outcome outcome --running-variable score`."""
        from cerebro.quasi.rdd.synthetic import make_rdd

        frame, truth = make_rdd(rows, seed=seed, fuzzy=fuzzy)
        _save(frame, truth, output, f"{'fuzzy' if fuzzy else 'sharp'} RD, seed {seed}")

    @datasets_app.command("iv")
    @user_errors
    def iv(
        output: Path = OUTPUT,
        seed: int = SEED,
        rows: int = typer.Option(2000, "--rows", min=50, help="Number of rows."),
    ) -> None:
        """An endogenous treatment d with instruments z1, z2 and control x1 (true effect 1); try
        `cerebro causal FILE --method iv --treatment d --outcome y --instrument z1,z2 --confounders x1`."""
        from cerebro.quasi.iv.synthetic import iv_frame

        frame, truth = iv_frame(rows, k=2, seed=seed)
        _save(frame, {k: float(v) for k, v in truth.items()}, output, f"IV, seed {seed}")

    _register_mmm(datasets_app)
    _register_geo_and_confounded(datasets_app)


def _register_geo_and_confounded(datasets_app: typer.Typer) -> None:
    """`cerebro datasets geo` and `cerebro datasets confounded`."""

    @datasets_app.command("geo")
    @user_errors
    def geo(
        output: Path = OUTPUT,
        seed: int = SEED,
        geos: int = typer.Option(20, "--geos", min=4, help="Number of markets."),
        lift: float = typer.Option(0.05, "--lift", help="True lift in the treated markets."),
    ) -> None:
        """Daily sales of markets (geo, date, sales) with a known lift in 'geo 00' and 'geo 01'
        over the last 15 days; try `cerebro geotest FILE --geo-column geo --date-column date
        --outcome sales --treatment-geos "geo 00,geo 01" --treatment-start <first test day>`."""
        from cerebro.geo.synthetic import geo_test_frame, simulate_geo_test

        sim = simulate_geo_test(n_geos=geos, n_pre=60, n_post=15, lift=lift, seed=seed)
        frame = geo_test_frame(sim)
        start = sorted(frame["date"].unique())[sim.n_pre]
        truth = {"lift": lift, "incremental": sim.incremental, "att": sim.att,
                 "treatment_geos": ["geo 00", "geo 01"], "treatment_start": start}  # fmt: skip
        _save(frame, truth, output, f"{geos} markets × {sim.n_pre + sim.n_post} days, seed {seed}")

    @datasets_app.command("confounded")
    @user_errors
    def confounded(
        output: Path = OUTPUT,
        seed: int = SEED,
        rows: int = typer.Option(2000, "--rows", min=50, help="Number of rows."),
    ) -> None:
        """Observational data: a treatment taken more often by older, more engaged customers
        who also spend more (true ATE 1, a naive difference far above it); try `cerebro causal
        FILE --treatment treated --outcome spend --confounders age,engagement --method aipw`."""
        from cerebro.data.synthetic import confounded_table

        frame, truth = confounded_table(rows, seed=seed)
        _save(frame, truth, output, f"observational, seed {seed}")


def _register_mmm(datasets_app: typer.Typer) -> None:
    """`cerebro datasets mmm` (its own function: `register` stays short)."""

    @datasets_app.command("mmm")
    @user_errors
    def mmm(
        output: Path = OUTPUT,
        seed: int = SEED,
        weeks: int = typer.Option(156, "--weeks", min=16, help="Number of weeks."),
        channels: int = typer.Option(6, "--channels", min=1, max=6, help="Media channels (≤ 6)."),
        geos: int | None = typer.Option(
            None, "--geos", min=2, help="One row per geo and week, with a population column."
        ),
        media_units: bool = typer.Option(
            False,
            "--media-units",
            help="Channels as media units (GRPs, clicks, impressions) with a <channel>_spend "
            "column of money beside each; fit with --spend-columns tv=tv_spend,…",
        ),
    ) -> None:
        """Weekly media mix data (revenue, spend per channel, price, promo) from geometric adstock
        and Hill saturation with known true ROI; try `cerebro mmm FILE --date-column week --kpi
        revenue --channels tv,search,social,display,video,radio --controls price,promo`."""
        from cerebro.mmm.synthetic import simulate_mmm

        if media_units and geos:
            raise UserInputError("--media-units makes national data; drop --geos.")
        frame, truth = simulate_mmm(weeks, channels, geos, seed=seed, media_units=media_units)
        what = f"{weeks} weeks × {channels} channels" + (f" × {geos} geos" if geos else "")
        _save(frame, truth, output, f"{what}, seed {seed}")
