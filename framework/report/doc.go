// Package report writes what a run saw for people and tools, one file per
// format: the run and its tallies (run.go), JUnit (junit.go), JSON
// (json.go), truth tables (text.go), the HTML report (html.go) and the
// conformance summary (conformance.go). Reports read the matrix; they never
// recompute a verdict.
package report
