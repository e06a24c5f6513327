# Reference values from R's lavaan for csisem's covariance-based SEM (CB-SEM).
#
# Run from the repository root:
#
#     Rscript tests/reference/lavaan/generate_lavaan.R [path/to/mobi.csv]
#
# (default mobi path: /work/shared/data/mobi.csv). Needs R and lavaan only
# (Debian: apt-get install r-base-core r-cran-lavaan); generated with R 4.2.2 and
# lavaan 0.6-14. CI does not need R: the outputs are committed under
# tests/reference/data/ (lavaan_*.csv, political_democracy*.csv,
# holzinger_swineford.csv). See the lavaan section of tests/reference/data/README.md.
#
# Output conventions
#   * results written with sprintf("%.17g") (round-trip exact binary64); data files with
#     the shortest of %.15g/%.16g/%.17g that reads back as the same double;
#   * missing results (z / pvalue of fixed parameters, ...) written as NaN;
#   * missing data cells written as empty fields;
#   * rhs of intercept rows (op "~1") is the empty string.

suppressPackageStartupMessages(library(lavaan))
options(warn = 1)  # print any warning not caught by fit_logged() as it happens

args <- commandArgs(trailingOnly = TRUE)
mobi_path <- if (length(args) >= 1) args[1] else "/work/shared/data/mobi.csv"
out_dir <- "tests/reference/data"
if (!dir.exists(out_dir)) {
  stop("run from the repository root (", out_dir, " not found)")
}

# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

fmt_num <- function(x, na = "NaN") {
  out <- sprintf("%.17g", as.numeric(x))
  out[is.na(x)] <- na
  out
}

# Data files: shortest of %.15g / %.16g / %.17g that reads back as the same double
# (the data are decimal numbers with <= 8 significant digits, so mostly %.15g, e.g.
# 3.3333333 instead of 3.3333333000000001).
fmt_data <- function(x) {
  x <- as.numeric(x)
  out <- rep("", length(x))
  ok <- !is.na(x)
  out[ok] <- sprintf("%.15g", x[ok])
  for (d in c(16, 17)) {
    bad <- ok & as.numeric(ifelse(ok, out, "0")) != x
    bad[is.na(bad)] <- FALSE
    out[bad] <- sprintf(paste0("%.", d, "g"), x[bad])
  }
  stopifnot(all(as.numeric(out[ok]) == x[ok]))
  out
}

# Format numeric columns (results: %.17g with NaN; data, na = "": fmt_data with empty
# fields); character / factor columns kept, their NAs written as empty fields.
format_df <- function(df, na = "NaN") {
  for (nm in names(df)) {
    col <- df[[nm]]
    if (is.factor(col)) col <- as.character(col)
    if (is.numeric(col)) {
      df[[nm]] <- if (identical(na, "")) fmt_data(col) else fmt_num(col, na = na)
    } else {
      col[is.na(col)] <- if (na == "NaN") "" else na
      df[[nm]] <- col
    }
  }
  df
}

write_out <- function(df, file, na = "NaN") {
  path <- file.path(out_dir, file)
  df <- format_df(df, na = na)
  # quote only the (text) columns that contain a comma, quote or newline
  bad <- vapply(df, function(col) any(grepl("[,\"\n]", col)), logical(1))
  utils::write.table(df, path, sep = ",", quote = if (any(bad)) which(bad) else FALSE,
                     qmethod = "double", row.names = FALSE,
                     col.names = TRUE, na = "", fileEncoding = "UTF-8", eol = "\n")
  cat(sprintf("  wrote %-45s %4d x %d\n", file, nrow(df), ncol(df)))
  invisible(path)
}

all_warnings <- data.frame(case = character(0), warning = character(0),
                           stringsAsFactors = FALSE)
all_settings <- data.frame(case = character(0), setting = character(0),
                           value = character(0), stringsAsFactors = FALSE)

# Fit a model while recording (and still printing) every warning lavaan raises.
fit_logged <- function(case, expr) {
  ws <- character(0)
  fit <- withCallingHandlers(expr, warning = function(w) {
    msg <- gsub("[[:space:]]+", " ", conditionMessage(w))
    ws <<- c(ws, msg)
    message("  [", case, "] lavaan WARNING: ", msg)
    invokeRestart("muffleWarning")
  })
  if (length(ws) > 0) {
    all_warnings <<- rbind(all_warnings,
                           data.frame(case = case, warning = ws, stringsAsFactors = FALSE))
  }
  fit
}

group_labels <- function(fit) {
  lab <- lavInspect(fit, "group.label")
  if (length(lab) == 0) NULL else lab
}

estimates_table <- function(fit) {
  pe <- parameterEstimates(fit, se = TRUE, zstat = TRUE, pvalue = TRUE,
                           ci = TRUE, level = 0.95, standardized = FALSE)
  ss <- standardizedSolution(fit, type = "std.all", se = FALSE, zstat = FALSE,
                             pvalue = FALSE, ci = FALSE)
  labs <- group_labels(fit)
  mg <- !is.null(labs)
  keys <- c("lhs", "op", "rhs")
  if (mg) keys <- c(keys, "group")
  ss <- ss[, c(keys, "est.std")]
  pe$.order <- seq_len(nrow(pe))
  m <- merge(pe, ss, by = keys, all.x = TRUE, sort = FALSE)
  m <- m[order(m$.order), ]
  cols <- c("lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "est.std")
  out <- m[, cols]
  names(out)[names(out) == "est.std"] <- "std_all"
  if (mg) {
    grp <- ifelse(m$group > 0, labs[pmax(m$group, 1)], "")
    lab <- if ("label" %in% names(m)) m$label else rep("", nrow(m))
    out <- data.frame(group = grp, label = lab, out, stringsAsFactors = FALSE,
                      check.names = FALSE)
  }
  rownames(out) <- NULL
  out
}

fit_table <- function(fit, baseline.model = NULL) {
  fm <- fitMeasures(fit, baseline.model = baseline.model)
  data.frame(measure = names(fm), value = as.numeric(fm), stringsAsFactors = FALSE)
}

implied_table <- function(fit) {
  imp <- fitted(fit)
  labs <- group_labels(fit)
  blocks <- if (is.null(labs)) list(imp) else imp
  out <- NULL
  for (g in seq_along(blocks)) {
    S <- as.matrix(blocks[[g]]$cov)
    S <- unclass(S)
    df <- data.frame(variable = rownames(S), S, stringsAsFactors = FALSE,
                     check.names = FALSE)
    if (!is.null(labs)) df <- data.frame(group = labs[g], df, stringsAsFactors = FALSE,
                                         check.names = FALSE)
    out <- rbind(out, df)
  }
  rownames(out) <- NULL
  out
}

implied_mean_table <- function(fit) {
  imp <- fitted(fit)
  labs <- group_labels(fit)
  blocks <- if (is.null(labs)) list(imp) else imp
  out <- NULL
  for (g in seq_along(blocks)) {
    mu <- blocks[[g]]$mean
    if (is.null(mu)) return(NULL)
    df <- data.frame(variable = names(mu), mean = as.numeric(mu), stringsAsFactors = FALSE)
    if (!is.null(labs)) df <- data.frame(group = labs[g], df, stringsAsFactors = FALSE)
    out <- rbind(out, df)
  }
  out
}

record_settings <- function(case, fit, call_text) {
  opt <- lavInspect(fit, "options")
  one <- function(x) paste(as.character(unlist(x)), collapse = ";")
  s <- c(
    call = call_text,
    estimator = one(opt$estimator),
    likelihood = one(opt$likelihood),
    se = one(opt$se),
    test = one(opt$test),
    scaled.test = one(opt$scaled.test),
    information = one(opt$information),
    observed.information = one(opt$observed.information),
    h1.information = one(opt$h1.information),
    information.meat = one(opt$information.meat),
    h1.information.meat = one(opt$h1.information.meat),
    mimic = one(opt$mimic),
    bounds = one(opt$bounds),
    missing = one(opt$missing),
    meanstructure = one(opt$meanstructure),
    fixed.x = one(opt$fixed.x),
    sample.cov.rescale = one(opt$sample.cov.rescale),
    group.label = one(group_labels(fit)),
    group.equal = one(opt$group.equal),
    nobs = one(lavInspect(fit, "nobs")),
    norig = one(lavInspect(fit, "norig")),
    converged = one(lavInspect(fit, "converged")),
    iterations = one(lavInspect(fit, "iterations")),
    post.check = one(suppressWarnings(lavInspect(fit, "post.check"))),
    optim.method = one(opt$optim.method)
  )
  all_settings <<- rbind(all_settings,
                         data.frame(case = case, setting = names(s), value = unname(s),
                                    stringsAsFactors = FALSE))
}

all_convergence <- NULL

max_abs_grad <- function(fit) max(abs(lavInspect(fit, "optim.gradient")))

# Re-optimise from lavaan's default solution to (near) machine precision, to measure how
# far the default stopping rule (nlminb, rel.tol = 1e-10 on the objective) leaves the
# estimates from the optimum. Gauss-Newton (optim.method = "GN") for complete data; GN is
# not valid for FIML, so BFGS there. A second, default-options fit started at that
# solution gives a fit object with exactly lavaan's default options (nlminb stops after
# one iteration without moving). baseline = FALSE because the baseline model would
# inherit the start values (it fails for the latent-single-indicator model, whose start
# for CUSCO ~~ CUSCO is the fixed 0); the baseline is passed to fitMeasures() instead.
#
# method = "BFGS" overrides GN for complete data: on the scalar-invariance model (equal
# intercepts, free latent means) GN stops at a worse point (fmin 0.2746 against 0.2726).
polish_fit <- function(case, fit, method = NULL) {
  fiml <- lavInspect(fit, "options")$missing %in% c("ml", "ml.x")
  if (is.null(method)) method <- if (fiml) "BFGS" else "GN"
  g <- fit_logged(paste0(case, " (polish)"), if (method == "BFGS") {
    update(fit, start = fit, optim.method = "BFGS", baseline = FALSE,
           control = list(reltol = 1e-16, maxit = 10000L))
  } else {
    update(fit, start = fit, optim.method = "GN", optim.gn.tol.x = 1e-14,
           optim.gn.iter.max = 1000L, baseline = FALSE)
  })
  h <- fit_logged(paste0(case, " (polish)"), update(fit, start = g, baseline = FALSE))
  if (!lavInspect(h, "converged")) stop("polished fit of ", case, " did not converge")
  if (h@optim$fx > fit@optim$fx + 1e-12) stop("polished fit of ", case, " is worse")
  list(fit = h, method = method,
       move = max(abs(coef(h) - coef(g))))  # movement of the final nlminb pass
}

record_convergence <- function(case, fit, pol) {
  h <- pol$fit
  p0 <- parameterEstimates(fit); p1 <- parameterEstimates(h)
  s0 <- standardizedSolution(fit); s1 <- standardizedSolution(h)
  fr <- p1$se > 0
  v <- c(
    iterations = lavInspect(fit, "iterations"),
    fmin = fit@optim$fx,
    max_abs_gradient = max_abs_grad(fit),
    polished_fmin = h@optim$fx,
    polished_max_abs_gradient = max_abs_grad(h),
    polished_final_nlminb_move = pol$move,
    max_abs_est_diff = max(abs(p0$est - p1$est)),
    max_abs_se_diff = max(abs(p0$se - p1$se)),
    max_rel_se_diff = max(abs(p0$se[fr] - p1$se[fr]) / p1$se[fr]),
    max_abs_std_all_diff = max(abs(s0$est.std - s1$est.std)),
    abs_chisq_diff = unname(abs(fitMeasures(fit, "chisq") - fitMeasures(h, "chisq"))))
  all_convergence <<- rbind(all_convergence, data.frame(
    case = case, polish_method = pol$method, t(v), stringsAsFactors = FALSE,
    check.names = FALSE))
}

write_case <- function(case, fit, implied, baseline.model = NULL) {
  est <- fit_logged(case, estimates_table(fit))
  write_out(est, sprintf("lavaan_%s_estimates.csv", case))
  write_out(fit_logged(case, fit_table(fit, baseline.model)),
            sprintf("lavaan_%s_fit.csv", case))
  if (implied) {
    write_out(implied_table(fit), sprintf("lavaan_%s_implied.csv", case))
    mu <- implied_mean_table(fit)
    if (!is.null(mu)) write_out(mu, sprintf("lavaan_%s_implied_mean.csv", case))
  }
}

# tight = TRUE also writes lavaan_<case>_tight_*.csv from the polished solution.
run_case <- function(case, call_text, expr, implied = TRUE, tight = FALSE,
                     polish_method = NULL) {
  cat(sprintf("case %s: %s\n", case, call_text))
  fit <- fit_logged(case, expr)
  if (!lavInspect(fit, "converged")) stop("case ", case, " did not converge")
  write_case(case, fit, implied)
  record_settings(case, fit, call_text)
  pol <- polish_fit(case, fit, polish_method)
  record_convergence(case, fit, pol)
  if (tight) {
    tcase <- paste0(case, "_tight")
    cat(sprintf("case %s: %s, re-optimised (%s) to max|gradient| %.1e\n", tcase, case,
                pol$method, max_abs_grad(pol$fit)))
    base <- fit_logged(tcase, lavaan:::lav_object_independence(fit))
    write_case(tcase, pol$fit, implied, baseline.model = base)
    record_settings(tcase, pol$fit, paste0(call_text, " re-optimised from its solution: ",
                                           pol$method, " then nlminb"))
  }
  invisible(fit)
}

# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

poldem <- lavaan::PoliticalDemocracy
stopifnot(identical(dim(poldem), c(75L, 11L)))
write_out(poldem, "political_democracy.csv", na = "")

# 10% of the 75 x 11 = 825 cells (82 cells, chosen without replacement) set to NA, MCAR.
set.seed(1)
poldem_miss <- poldem
n_cells <- nrow(poldem) * ncol(poldem)
miss_idx <- sample.int(n_cells, floor(0.10 * n_cells))
m <- as.matrix(poldem_miss)
m[miss_idx] <- NA
poldem_miss <- as.data.frame(m)
stopifnot(sum(is.na(poldem_miss)) == 82L, all(rowSums(!is.na(poldem_miss)) > 0))
write_out(poldem_miss, "political_democracy_missing.csv", na = "")

hs <- lavaan::HolzingerSwineford1939
hs$school <- as.character(hs$school)
stopifnot(identical(dim(hs), c(301L, 15L)))
write_out(hs, "holzinger_swineford.csv", na = "")

mobi <- read.csv(mobi_path)
stopifnot(identical(dim(mobi), c(250L, 24L)))

# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------

poldem_model <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
'

ecsi_measurement <- '
  IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
  CUEX =~ CUEX1 + CUEX2 + CUEX3
  PERQ =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
  PERV =~ PERV1 + PERV2
  CUSA =~ CUSA1 + CUSA2 + CUSA3
  CUSL =~ CUSL1 + CUSL2 + CUSL3
'
ecsi_structural <- '
  CUEX ~ IMAG
  PERQ ~ CUEX
  PERV ~ CUEX + PERQ
  CUSA ~ IMAG + CUEX + PERQ + PERV
'
# CUSCO (single item) as an observed variable in the structural part
ecsi_model <- paste0(ecsi_measurement, ecsi_structural, '
  CUSCO ~ CUSA
  CUSL ~ IMAG + CUSA + CUSCO
')
# CUSCO as a latent single indicator: loading 1, error variance 0
ecsi_lsi_model <- paste0(ecsi_measurement, '
  CUSCO_L =~ 1*CUSCO
  CUSCO ~~ 0*CUSCO
', ecsi_structural, '
  CUSCO_L ~ CUSA
  CUSL ~ IMAG + CUSA + CUSCO_L
')

hs_model <- '
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
'

# ----------------------------------------------------------------------------
# fits
# ----------------------------------------------------------------------------

run_case("poldem_ml", 'sem(poldem_model, data = PoliticalDemocracy, estimator = "ML")',
         sem(poldem_model, data = poldem, estimator = "ML"))
run_case("poldem_mlr", 'sem(poldem_model, data = PoliticalDemocracy, estimator = "MLR")',
         sem(poldem_model, data = poldem, estimator = "MLR"))

run_case("ecsi_ml", 'sem(ecsi_model, data = mobi, estimator = "ML")',
         sem(ecsi_model, data = mobi, estimator = "ML"), tight = TRUE)
run_case("ecsi_mlr", 'sem(ecsi_model, data = mobi, estimator = "MLR")',
         sem(ecsi_model, data = mobi, estimator = "MLR"), tight = TRUE)
run_case("ecsi_lsi_ml", 'sem(ecsi_lsi_model, data = mobi, estimator = "ML")',
         sem(ecsi_lsi_model, data = mobi, estimator = "ML"), tight = TRUE)

run_case("poldem_fiml",
         'sem(poldem_model, data = political_democracy_missing, estimator = "ML", missing = "ml")',
         sem(poldem_model, data = poldem_miss, estimator = "ML", missing = "ml"))

hs_fit <- run_case("hs_ml", 'cfa(hs_model, data = HolzingerSwineford1939, estimator = "ML")',
                   cfa(hs_model, data = hs, estimator = "ML"))
hs_free_fit <- run_case("hs_mg_free",
         'cfa(hs_model, data = HolzingerSwineford1939, estimator = "ML", group = "school")',
         cfa(hs_model, data = hs, estimator = "ML", group = "school"))
hs_loadings_fit <- run_case("hs_mg_loadings",
         paste0('cfa(hs_model, data = HolzingerSwineford1939, estimator = "ML", ',
                'group = "school", group.equal = "loadings")'),
         cfa(hs_model, data = hs, estimator = "ML", group = "school",
             group.equal = "loadings"))

cat("case hs_ml: modindices(fit)\n")
mi <- fit_logged("hs_ml", modindices(hs_fit))
mi <- as.data.frame(mi)[, c("lhs", "op", "rhs", "mi", "epc", "sepc.all")]
names(mi)[names(mi) == "sepc.all"] <- "sepc_all"
rownames(mi) <- NULL
write_out(mi, "lavaan_hs_modindices.csv")

# ----------------------------------------------------------------------------
# bookkeeping
# ----------------------------------------------------------------------------

versions <- data.frame(
  case = "all",
  setting = c("R.version", "lavaan.version", "mobi.path", "mobi.md5"),
  value = c(R.version.string, as.character(packageVersion("lavaan")), mobi_path,
            unname(tools::md5sum(mobi_path))),
  stringsAsFactors = FALSE)
write_out(rbind(versions, all_settings), "lavaan_settings.csv")
write_out(all_convergence, "lavaan_convergence.csv")
write_out(all_warnings, "lavaan_warnings.csv")
cat(sprintf("%d lavaan warning(s) recorded in lavaan_warnings.csv\n", nrow(all_warnings)))

# ----------------------------------------------------------------------------
# second batch: WLS, DWLS and GLS; total and indirect effects as defined parameters;
# scalar invariance and the chi-square difference tests. Its bookkeeping goes to
# lavaan_*_batch2.csv, so that every file written above stays byte-identical.
# ----------------------------------------------------------------------------

all_settings <- all_settings[0, ]
all_convergence <- NULL
all_warnings <- all_warnings[0, ]

run_case("poldem_wls", 'sem(poldem_model, data = PoliticalDemocracy, estimator = "WLS")',
         sem(poldem_model, data = poldem, estimator = "WLS"))
run_case("poldem_dwls", 'sem(poldem_model, data = PoliticalDemocracy, estimator = "DWLS")',
         sem(poldem_model, data = poldem, estimator = "DWLS"))
run_case("poldem_gls", 'sem(poldem_model, data = PoliticalDemocracy, estimator = "GLS")',
         sem(poldem_model, data = poldem, estimator = "GLS"))

# Bollen's model with the structural paths labelled and the indirect and total effects of
# ind60 on dem65 as defined parameters (delta-method standard errors).
poldem_effects_model <- '
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ a*ind60
  dem65 ~ c*ind60 + b*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  ind := a*b
  total := c + a*b
'
for (est in c("ML", "MLR")) {
  case <- paste0("poldem_effects_", tolower(est))
  call_text <- sprintf('sem(poldem_effects_model, data = PoliticalDemocracy, estimator = "%s")',
                       est)
  cat(sprintf("case %s: %s\n", case, call_text))
  fit <- fit_logged(case, sem(poldem_effects_model, data = poldem, estimator = est))
  if (!lavInspect(fit, "converged")) stop("case ", case, " did not converge")
  est_table <- fit_logged(case, estimates_table(fit))
  write_out(est_table[est_table$op == ":=", ], sprintf("lavaan_%s_defined.csv", case))
  record_settings(case, fit, call_text)
}

# Measurement invariance across schools: configural (hs_mg_free), metric
# (hs_mg_loadings) and scalar (loadings and intercepts equal; latent means free in the
# second group), and lavTestLRT() of the three; ML, and MLR (Satorra-Bentler 2001 scaled
# differences).
hs_scalar_fit <- run_case(
  "hs_mg_scalar",
  paste0('cfa(hs_model, data = HolzingerSwineford1939, estimator = "ML", ',
         'group = "school", group.equal = c("loadings", "intercepts"))'),
  cfa(hs_model, data = hs, estimator = "ML", group = "school",
      group.equal = c("loadings", "intercepts")),
  polish_method = "BFGS")

invariance_table <- function(case, fits) {
  lrt <- fit_logged(case, lavTestLRT(fits[[1]], fits[[2]], fits[[3]]))
  lrt <- as.data.frame(lrt)
  measures <- c("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")
  scaled <- "chisq.scaled" %in% names(fitMeasures(fits[[1]]))
  if (scaled) {
    measures <- c(measures, "chisq.scaled", "chisq.scaling.factor", "cfi.robust",
                  "rmsea.robust")
  }
  fm <- t(sapply(fits, function(f) fitMeasures(f, measures)))
  out <- data.frame(model = c("configural", "metric", "scalar"), fm,
                    chisq_diff = lrt[["Chisq diff"]], df_diff = lrt[["Df diff"]],
                    pvalue_diff = lrt[["Pr(>Chisq)"]], stringsAsFactors = FALSE,
                    check.names = FALSE)
  if ("RMSEA" %in% names(lrt)) out$rmsea_diff <- lrt[["RMSEA"]]
  names(out) <- gsub(".", "_", names(out), fixed = TRUE)
  rownames(out) <- NULL
  write_out(out, sprintf("lavaan_%s.csv", case))
}

cat("case hs_invariance: lavTestLRT(configural, metric, scalar)\n")
invariance_table("hs_invariance", list(hs_free_fit, hs_loadings_fit, hs_scalar_fit))
cat("case hs_invariance_mlr: the same with estimator = \"MLR\"\n")
hs_mlr_fits <- lapply(list("none", "loadings", c("loadings", "intercepts")), function(eq) {
  if (identical(eq, "none")) {
    cfa(hs_model, data = hs, estimator = "MLR", group = "school")
  } else {
    cfa(hs_model, data = hs, estimator = "MLR", group = "school", group.equal = eq)
  }
})
invariance_table("hs_invariance_mlr", hs_mlr_fits)

write_out(all_settings, "lavaan_settings_batch2.csv")
write_out(all_convergence, "lavaan_convergence_batch2.csv")
write_out(all_warnings, "lavaan_warnings_batch2.csv")
cat(sprintf("%d lavaan warning(s) recorded in lavaan_warnings_batch2.csv\n",
            nrow(all_warnings)))
