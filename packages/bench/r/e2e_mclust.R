# mclust's side of `pnpm bench --only commands`: the sweep as one command,
# from CSV to the chosen model. Usage: Rscript e2e_mclust.R DATA.csv KMAX MODELS
# (MODELS comma separated mclust names, e.g. VVV,EEE,VVI,VII).
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
X <- as.matrix(read.csv(args[1]))
fit <- Mclust(X, G = 1:as.integer(args[2]), modelNames = strsplit(args[3], ",")[[1]], verbose = FALSE)
cat(fit$modelName, fit$G, fit$bic, "\n", file = stderr())
