"""The words column names use for each role, as regular expressions on the lower-cased name.

Names are a hint, never the only evidence: a role is given by the name *and* the values (a
date parses as dates, an arm has 2–10 levels, spend is never negative …), and every role can be
overridden on the command line.
"""

from __future__ import annotations

import re

# A word inside a name: delimited by the start, the end, _ - . space or a digit.
_EDGE = r"(?:^|[_\-. 0-9])"
_END = r"(?:$|[_\-. 0-9])"


def words(*names: str) -> re.Pattern[str]:
    """A pattern matching any of `names` as a whole word of a column name."""
    return re.compile(_EDGE + "(?:" + "|".join(names) + ")" + _END)


DATE = words("date", "week", "day", "month", "period", "time", "ds", "timestamp", "year", "dt")
ARM = words(
    "arm", "variant", "group", "treatment", "treated", "treat", "condition", "bucket",
    "exposed", "assignment", "assigned", "experiment", "cell", "version", "test_group",
)  # fmt: skip
GEO = words(
    "geo", "dma", "market", "region", "state", "city", "country", "zip", "postcode",
    "territory", "metro", "province",
)  # fmt: skip
UNIT = words(
    "id", "user", "customer", "unit", "account", "client", "member", "visitor", "household",
    "store", "firm", "company", "person", "patient", "uid", "userid", "user_id", "shop",
)  # fmt: skip
SPEND = words("spend", "cost", "budget", "investment", "media")
IMPRESSIONS = words("impressions", "impression", "impr", "grp", "grps", "reach", "views")
CHANNEL = words(
    "tv", "radio", "search", "social", "display", "video", "ooh", "print", "affiliate",
    "email", "facebook", "google", "youtube", "tiktok", "meta", "sem", "seo", "ctv",
    "podcast", "programmatic",
)  # fmt: skip
KPI = words(
    "revenue", "sales", "conversion", "conversions", "converted", "convert", "purchase",
    "purchases", "purchased", "orders", "order", "outcome", "kpi", "y", "target", "retained",
    "retention", "churn", "churned", "signups", "signup", "profit", "gmv", "bookings",
    "units", "response", "clicked", "earnings",
)  # fmt: skip
# Words that make a column an attribute or a prediction, not an outcome (churn_risk, …).
NOT_KPI = words(
    "risk", "propensity", "probability", "prob", "predicted", "pred", "segment", "tier",
    "baseline", "expected", "forecast",
)  # fmt: skip
PRE = re.compile(
    r"(?:^|[_\-. ])(?:pre|baseline|prior|before|historical|previous|lag)(?:$|[_\-. 0-9])"
)
POST = re.compile(
    r"(?:^|[_\-. ])(?:post|after|during|following|subsequent|followup)(?:$|[_\-. 0-9])"
)
# A column that only flags the post period of a panel (did's `post`), not a measurement.
POST_FLAG = re.compile(r"^(?:post|after|post_period|is_post|period_post)$")
RUNNING = words("score", "running", "rating", "distance", "margin", "vote", "index", "grade")
TREND = words("trend", "t", "index", "row", "n")


def named(pattern: re.Pattern[str], name: str) -> bool:
    """Whether the column name contains one of the pattern's words."""
    return bool(pattern.search(name.lower()))
