# Reference numbers for tests/test_sensitivity_matched_sets.py from R's sensitivitymv (senmv,
# Rosenbaum 2007) on tests/data/matched_sets.csv (made by Cerebro; see tests/data/matched_sets.README.md).
# sensitivitymv is pure R: point the first argument at an unpacked copy of its R/ folder.
#
#     Rscript tests/reference/senmv_sets.R /path/to/sensitivitymv/R tests/data/matched_sets.csv
args <- commandArgs(trailingOnly = TRUE)
for (f in c("mscorev.R", "separable1v.R", "newurks.R", "senmv.R")) source(file.path(args[1], f))
y <- as.matrix(read.csv(args[2]))
for (trim in c(1, 2.5, Inf)) {
  for (gamma in c(1, 1.5, 2, 3)) {
    r <- senmv(y, gamma = gamma, trim = trim)
    cat(sprintf("trim %s gamma %s pval %.17g deviate %.17g statistic %.17g expectation %.17g variance %.17g\n",
                trim, gamma, r$pval, r$deviate, r$statistic, r$expectation, r$variance))
  }
}
r <- senmv(y, gamma = 2, method = "i")
cat(sprintf("inner 0.5 trim 2.5 gamma 2 pval %.17g statistic %.17g expectation %.17g variance %.17g\n",
            r$pval, r$statistic, r$expectation, r$variance))
