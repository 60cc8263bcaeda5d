"""ALLy's evaluation harness: a question set written from the corpus, deterministic metrics, baselines
run side by side with ALLy, a Markdown/HTML report and a CI gate (`ally eval`)."""
