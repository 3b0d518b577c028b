package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// benchResults maps a benchmark name (without the -GOMAXPROCS suffix) and a
// unit ("ns/op", "B/op", "allocs/op", "rows/s", ...) to the values of every
// -count run.
type benchResults map[string]map[string][]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

// runGoBench runs `go test -run '^$' -bench pattern -benchmem -count 1
// -benchtime T pkg` in dir o.benchCount times and parses the outputs, so
// that the i-th value of every benchmark comes from the i-th invocation,
// in which the sub-benchmarks ran one after the other (-count N would run
// each sub-benchmark N times in a row instead). It returns the command as
// shown in the report.
func runGoBench(ctx context.Context, o options, dir, pattern, pkg string) (benchResults, string, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", "1", "-benchtime", o.benchTime, pkg}
	shown := fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem -count 1 -benchtime %s %s   # %d times", pattern, o.benchTime, pkg, o.benchCount)
	res := benchResults{}
	for i := range o.benchCount {
		logf("%s (in %s), %d of %d", shown, dir, i+1, o.benchCount)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, shown, fmt.Errorf("%s: %w\n%s", shown, err, out)
		}
		for name, units := range parseBench(out) {
			if res[name] == nil {
				res[name] = map[string][]float64{}
			}
			for unit, vs := range units {
				res[name][unit] = append(res[name][unit], vs...)
			}
		}
	}
	return res, shown, nil
}

func parseBench(out []byte) benchResults {
	res := benchResults{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		if res[name] == nil {
			res[name] = map[string][]float64{}
		}
		// f[1] is the iteration count; then value/unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			res[name][f[i+1]] = append(res[name][f[i+1]], v)
		}
	}
	return res
}
