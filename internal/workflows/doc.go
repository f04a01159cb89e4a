// Package workflows holds the tests of the repository's GitHub Actions workflows
// (.github/workflows): actionlint, pinned, and what each workflow must do.
package workflows
