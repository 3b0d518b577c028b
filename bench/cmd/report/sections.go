package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/bench/internal/stats"
)

// benchSection is one go test run and what came out of it.
type benchSection struct {
	Command string       `json:"command"`
	Results benchResults `json:"results"`
}

// programSection is one benchmark program run as it is, its output quoted.
type programSection struct {
	Command string `json:"command"`
	Output  string `json:"output"`
}

func med(r benchResults, name, unit string) float64 { return stats.Median(r[name][unit]) }

// pairedRatio is the median over the -count runs of num's figure divided by
// den's in the same run: go test runs the sub-benchmarks of one count one
// after the other, so each pair ran under about the same load.
func pairedRatio(r benchResults, num, den, unit string) float64 {
	a, b := r[num][unit], r[den][unit]
	var q []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			q = append(q, a[i]/b[i])
		}
	}
	return stats.Median(q)
}

// fmtUnit formats a figure in the unit it was measured in.
func fmtUnit(v float64, unit string) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch unit {
	case "ns/op":
		switch {
		case v >= 1e9:
			return fmt.Sprintf("%.2f s", v/1e9)
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	case "B/op":
		switch {
		case v >= 1<<20:
			return fmt.Sprintf("%.2f MiB", v/(1<<20))
		case v >= 1<<10:
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	case "MB/s":
		return fmt.Sprintf("%.0f MB/s", v)
	case "retained-B/row":
		return fmt.Sprintf("%.1f B", v)
	}
	return commas(v)
}

// commas formats a count with thousands separators.
func commas(v float64) string {
	s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ratioText formats a/b as "1.23×" ("–" when undefined).
func ratioText(a, b float64) string {
	if a == 0 || b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

// pairedNote says how the benchmark ratios are taken.
const pairedNote = "paired: the report runs go test once per repetition, and in each run " +
	"the two sides run one after the other, so the ratio is taken within each run and the table " +
	"gives the median of those ratios (a change of the machine's load between runs then affects " +
	"both sides alike)."

func runDecode(ctx context.Context, o options) (benchSection, error) {
	r, cmd, err := runGoBench(ctx, o, "..", "DecodeMonitorReply", "./jsonrpc/")
	return benchSection{Command: cmd, Results: r}, err
}

func runReplica(ctx context.Context, o options) (benchSection, error) {
	r, cmd, err := runGoBench(ctx, o, ".", "Initial|Modify|Retained", ".")
	return benchSection{Command: "cd bench && " + cmd, Results: r}, err
}

func writeDecode(w io.Writer, s benchSection) {
	fmt.Fprintf(w, "## Framing a monitor reply (`jsonrpc`)\n\n")
	fmt.Fprintf(w, `A `+"`monitor_cond`"+` reply of 10,000 rows (6 columns: string, optional integer, set of strings,
set of uuids, string map, boolean; about 4 MB of JSON) read from a byte stream into one
JSON-RPC message. **Equal work**: both sides take the same bytes and produce the same output,
a message whose members are validated and whose params/result are kept as raw bytes:
ovsdbcs's reader against `+"`encoding/json`"+`'s Decoder into a struct of `+"`json.RawMessage`"+`
members. Decoding the rows into typed values is the next section, against libovsdb.
"stream" reuses one reader per connection (its steady state); "fresh" starts a new reader
per message (buffers grown from scratch), for both.

    %s

`, s.Command)
	fmt.Fprintln(w, "| reader | figure | jsonrpc | encoding/json (raw members) | encoding/json ÷ jsonrpc |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, mode := range []string{"stream", "fresh"} {
		ours := "BenchmarkDecodeMonitorReply/reader=" + mode + "/decoder=jsonrpc"
		theirs := "BenchmarkDecodeMonitorReply/reader=" + mode + "/decoder=encoding-json"
		for _, unit := range []string{"ns/op", "B/op", "allocs/op"} {
			a, b := med(s.Results, ours, unit), med(s.Results, theirs, unit)
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mode, unitName(unit), fmtUnit(a, unit), fmtUnit(b, unit),
				ratioText(pairedRatio(s.Results, theirs, ours, unit), 1))
		}
	}
	fmt.Fprintf(w, "\nFigures: medians of %d runs each. Ratios: %s\n\n", runsOf(s.Results, "BenchmarkDecodeMonitorReply/reader=stream/decoder=jsonrpc"), pairedNote)
	fmt.Fprint(w, `The reply to the client's own monitor request is not kept as bytes at all: the reader hands
its result to a decoder piece by piece while it arrives (`+"`Conn.ExpectResult`"+`). With a decoder
that does nothing, the framing alone costs (no ratio: its output is not the other sides'):

`)
	fmt.Fprintln(w, "| reader | time/op | B/op | allocs/op | most bytes held at once |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, mode := range []string{"stream", "fresh"} {
		name := "BenchmarkDecodeMonitorReply/reader=" + mode + "/decoder=jsonrpc-streamed"
		if runsOf(s.Results, name) == 0 {
			continue
		}
		peak := "–"
		if p := med(s.Results, name, "peak-bytes"); !math.IsNaN(p) && p > 0 {
			peak = fmt.Sprintf("%.0f KiB", p/1024)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mode, fmtUnit(med(s.Results, name, "ns/op"), "ns/op"),
			fmtUnit(med(s.Results, name, "B/op"), "B/op"), fmtUnit(med(s.Results, name, "allocs/op"), "allocs/op"), peak)
	}
	fmt.Fprintln(w)
}

func unitName(u string) string {
	switch u {
	case "ns/op":
		return "time/op"
	}
	return u
}

func runsOf(r benchResults, name string) int { return len(r[name]["ns/op"]) }

func writeReplica(w io.Writer, s benchSection) {
	fmt.Fprintf(w, "## Typed decode and apply to the replica (`monitor`, against libovsdb's cache)\n\n")
	fmt.Fprintf(w, `**Equal work**: both sides start from the same bytes (the `+"`result`"+` of a monitor_cond reply,
or the params of update2 notifications) and end with a replica holding every row as typed
values that can be queried. ovsdbcs: `+"`monitor.ParseMonitorCondReply`"+` / `+"`ParseNotification`"+` +
`+"`Replica.Apply`"+`. libovsdb v0.7.0: `+"`json.Unmarshal`"+` into `+"`ovsdb.TableUpdates2`"+` +
`+"`cache.TableCache.Populate2`"+`, with a hand-written model that has the clone/equality methods
modelgen generates (so libovsdb is not penalised by its JSON-round-trip clone).
`+"`TestSameResult`"+` (in bench/) checks that both end in the same state. Rows: 10,000 of the
table described in bench/README.md (394 bytes of JSON each, 3 set members, 3 references and 3
map entries per row). Retained heap per row: HeapAlloc after a collection with the replica
(cache) alive, minus the same with it empty, divided by the rows.

    %s

`, s.Command)
	fmt.Fprintln(w, "| benchmark | figure | ovsdbcs | libovsdb v0.7.0 | ratio (libovsdb ÷ ovsdbcs; for rows/s ovsdbcs ÷ libovsdb) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, b := range []struct{ name, label string }{
		{"BenchmarkInitial", "initial reply, 10,000 rows"},
		{"BenchmarkModify", "1,000 update2 modifies"},
	} {
		ours, theirs := b.name+"/impl=ovsdbcs", b.name+"/impl=libovsdb"
		for _, unit := range []string{"ns/op", "rows/s", "B/op", "allocs/op"} {
			x, y := med(s.Results, ours, unit), med(s.Results, theirs, unit)
			ratio := ratioText(pairedRatio(s.Results, theirs, ours, unit), 1)
			if unit == "rows/s" {
				ratio = ratioText(pairedRatio(s.Results, ours, theirs, unit), 1)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", b.label, unitName(unit), fmtUnit(x, unit), fmtUnit(y, unit), ratio)
		}
	}
	x := med(s.Results, "BenchmarkRetained/impl=ovsdbcs", "retained-B/row")
	y := med(s.Results, "BenchmarkRetained/impl=libovsdb", "retained-B/row")
	fmt.Fprintf(w, "| retained heap per row | bytes | %s | %s | %s |\n",
		fmtUnit(x, "retained-B/row"), fmtUnit(y, "retained-B/row"),
		ratioText(pairedRatio(s.Results, "BenchmarkRetained/impl=libovsdb", "BenchmarkRetained/impl=ovsdbcs", "retained-B/row"), 1))
	fmt.Fprintf(w, "\nFigures: medians of %d runs each. Ratios: %s\n\n", runsOf(s.Results, "BenchmarkInitial/impl=ovsdbcs"), pairedNote)
}

// runProgram runs one of the bench programs (go run ./cmd/NAME args...)
// and keeps its standard output.
func runProgram(ctx context.Context, name string, args ...string) (programSection, error) {
	shown := "cd bench && go run ./cmd/" + name + " " + strings.Join(args, " ")
	logf("%s", shown)
	cmd := exec.CommandContext(ctx, "go", append([]string{"run", "./cmd/" + name}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return programSection{Command: shown}, fmt.Errorf("%s: %w", shown, err)
	}
	return programSection{Command: shown, Output: strings.TrimRight(string(out), "\n")}, nil
}

func writeProgram(w io.Writer, p programSection) {
	fmt.Fprintf(w, "    %s\n\n```\n%s\n```\n\n", p.Command, p.Output)
}
