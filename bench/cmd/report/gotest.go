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

// runGoBench runs `go test -run '^$' -bench pattern -benchmem -count N
// -benchtime T pkg` in dir and parses its output. It returns the command
// as run, for the report.
func runGoBench(ctx context.Context, o options, dir, pattern, pkg string) (benchResults, string, error) {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem",
		"-count", strconv.Itoa(o.benchCount), "-benchtime", o.benchTime, pkg}
	shown := fmt.Sprintf("go test -run '^$' -bench '%s' -benchmem -count %d -benchtime %s %s", pattern, o.benchCount, o.benchTime, pkg)
	logf("%s (in %s)", shown, dir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, shown, fmt.Errorf("%s: %w\n%s", shown, err, out)
	}
	return parseBench(out), shown, nil
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
