# R mclust side of the gmmkit benchmark (run by packages/bench/src/run.ts).
#
#   Rscript bench_mclust.R probe
#   Rscript bench_mclust.R per-iter DATA N D MODEL K ITERS REPEATS MEANS
#   Rscript bench_mclust.R sweep DATA N D KMIN KMAX MODELS REPEATS
#
# DATA is raw little-endian float64, N x D row-major, written by the JS
# harness (the same rows gmmkit and scikit-learn get); MEANS is K x D the same
# way (the fixed initial means). Prints one JSON object on stdout.
#
# per-iter: me() (M-step then EM, Fortran) from the hard assignment of every
#   row to its nearest initial mean, with tol = 0 so it runs exactly ITERS
#   iterations. me() cannot be timed per iteration from R, so
#   ms/iteration = (time(ITERS iterations) - time(1 iteration)) / (ITERS - 1),
#   which removes the setup; median over REPEATS.
# sweep: Mclust(X, G = KMIN:KMAX, modelNames = MODELS) -- mclust's own
#   initialization (hierarchical clustering on a subset), BIC for every cell;
#   total wall time, median over REPEATS.

args <- commandArgs(trailingOnly = TRUE)

json_num <- function(x) if (is.na(x)) "null" else format(x, digits = 10)
json_vec <- function(x) paste0("[", paste(vapply(x, json_num, ""), collapse = ","), "]")

if (length(args) == 0 || args[[1]] == "probe") {
  ok <- suppressWarnings(suppressMessages(requireNamespace("mclust", quietly = TRUE)))
  if (!ok) {
    cat('{"available":false,"reason":"R package mclust not installed"}\n')
  } else {
    cat(sprintf('{"available":true,"r":"%s","mclust":"%s"}\n',
                paste(R.version$major, R.version$minor, sep = "."),
                as.character(utils::packageVersion("mclust"))))
  }
  quit(status = 0)
}

suppressMessages(library(mclust))

read_matrix <- function(path, n, d) {
  v <- readBin(path, what = "double", n = n * d, size = 8, endian = "little")
  matrix(v, nrow = n, ncol = d, byrow = TRUE)
}

elapsed_ms <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  force(expr)
  (proc.time()[["elapsed"]] - t0) * 1000
}

mode <- args[[1]]
if (mode == "per-iter") {
  n <- as.integer(args[[3]]); d <- as.integer(args[[4]])
  x <- read_matrix(args[[2]], n, d)
  model <- args[[5]]; k <- as.integer(args[[6]])
  iters <- as.integer(args[[7]]); repeats <- as.integer(args[[8]])
  means <- read_matrix(args[[9]], k, d)
  # Hard assignment to the nearest initial mean.
  dist2 <- sapply(seq_len(k), function(j) rowSums((x - matrix(means[j, ], n, d, byrow = TRUE))^2))
  cl <- max.col(-dist2, ties.method = "first")
  z <- unmap(cl, groups = seq_len(k))
  run <- function(m) {
    ctrl <- emControl(tol = c(0, 0), itmax = c(m, m))
    t <- elapsed_ms(res <- me(data = x, modelName = model, z = z, control = ctrl, warn = FALSE))
    # info["iterations"] is negative when itmax was reached.
    list(ms = t, iters = abs(attr(res, "info")[["iterations"]]), loglik = res$loglik)
  }
  run(1) # warm-up
  per <- numeric(0); got <- NA
  for (r in seq_len(repeats)) {
    one <- run(1)
    many <- run(iters)
    got <- many$iters
    per <- c(per, (many$ms - one$ms) / max(1, many$iters - one$iters))
  }
  cat(sprintf('{"msPerIter":%s,"runs":%s,"iters":%s,"loglik":%s}\n',
              json_num(median(per)), json_vec(per), json_num(got), json_num(run(iters)$loglik)))
} else if (mode == "sweep") {
  n <- as.integer(args[[3]]); d <- as.integer(args[[4]])
  x <- read_matrix(args[[2]], n, d)
  ks <- seq(as.integer(args[[5]]), as.integer(args[[6]]))
  models <- strsplit(args[[7]], ",")[[1]]
  repeats <- as.integer(args[[8]])
  runs <- numeric(0); fit <- NULL
  for (r in seq_len(repeats)) {
    runs <- c(runs, elapsed_ms(fit <- Mclust(x, G = ks, modelNames = models, verbose = FALSE)))
  }
  cat(sprintf('{"ms":%s,"runs":%s,"best":{"model":"%s","k":%d,"bic":%s}}\n',
              json_num(median(runs)), json_vec(runs), fit$modelName, fit$G, json_num(fit$bic)))
} else {
  stop(paste("unknown mode", mode))
}
