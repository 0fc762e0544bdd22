// Package tap is berth's small stand-in for github.com/mndrix/tap-go, which
// Debian does not package: just enough of its API for runtime-tools'
// validation programs to print TAP 13 (plan, ok/not ok, skip, todo,
// diagnostics, YAML blocks).
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// T writes one TAP stream.
type T struct {
	next   *int
	Writer io.Writer
	TODO   bool
}

// New starts a stream on stdout.
func New() *T {
	n := 1
	return &T{next: &n}
}

func (t *T) w() io.Writer {
	if t.Writer == nil {
		return os.Stdout
	}
	return t.Writer
}

func (t *T) printf(format string, a ...interface{}) {
	fmt.Fprintf(t.w(), format, a...)
}

// Header prints the version line and, for count > 0, the plan.
func (t *T) Header(count int) {
	t.printf("TAP version 13\n")
	if count > 0 {
		t.printf("1..%d\n", count)
	}
}

// Ok records one test point.
func (t *T) Ok(pass bool, desc string) {
	word := "ok"
	if !pass {
		word = "not ok"
	}
	suffix := ""
	if t.TODO {
		suffix = " # TODO"
	}
	t.printf("%s %d - %s%s\n", word, *t.next, desc, suffix)
	*t.next++
}

func (t *T) Pass(desc string) { t.Ok(true, desc) }
func (t *T) Fail(desc string) { t.Ok(false, desc) }

// Skip records count skipped points.
func (t *T) Skip(count int, desc string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", *t.next, desc)
		*t.next++
	}
}

// Count is the number of points so far.
func (t *T) Count() int { return *t.next - 1 }

// AutoPlan prints the plan at the end of the stream.
func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

// Todo returns a writer whose points are marked TODO, sharing the numbering.
func (t *T) Todo() *T {
	c := *t
	c.TODO = true
	return &c
}

// Diagnostic prints msg as comment lines.
func (t *T) Diagnostic(msg string) {
	for _, l := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		t.printf("# %s\n", l)
	}
}

func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints v as an indented YAML block (JSON is valid YAML).
func (t *T) YAML(v interface{}) error {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	t.printf("  ---\n  %s\n  ...\n", b)
	return nil
}
