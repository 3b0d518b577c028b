package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// environment is what the report says about where and how it ran.
type environment struct {
	Date     time.Time `json:"date"`
	Commit   string    `json:"commit"`
	CPU      string    `json:"cpu"`
	Cores    int       `json:"cores"`
	MemTotal string    `json:"mem_total"`
	Load     string    `json:"load"`
	Go       string    `json:"go"`
	OVS      string    `json:"ovs"`
	Command  string    `json:"command"`
}

func describeEnvironment() environment {
	e := environment{Date: time.Now().UTC(), Cores: runtime.NumCPU(), Go: runtime.Version()}
	e.Commit = output("git", "rev-parse", "--short=12", "HEAD")
	// The file this run rewrites does not count as a change.
	if output("git", "status", "--porcelain", "--untracked-files=no", "--", ":/", ":(exclude,top)docs/benchmarks.md") != "" {
		e.Commit += " (with uncommitted changes)"
	}
	e.CPU = procField("/proc/cpuinfo", "model name")
	e.MemTotal = procField("/proc/meminfo", "MemTotal")
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		e.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	e.OVS = firstLine(output("ovsdb-server", "--version"))
	e.Command = "cd bench && go run ./cmd/report " + strings.Join(os.Args[1:], " ")
	return e
}

func output(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "unknown"
}
