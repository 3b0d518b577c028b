// Package procmem reads the memory figures the sync comparison reports: a
// process's resident set sizes from /proc and the Go heap after
// collections.
package procmem

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Status returns a size field of /proc/PID/status in bytes (pid 0: this
// process): "VmHWM" (the peak resident set size since exec) or "VmRSS"
// (the current one); 0 if unknown.
func Status(pid int, field string) int64 {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			if f := strings.Fields(v); len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// HeapAfterGC returns HeapAlloc after two full collections (the second
// through debug.FreeOSMemory, which also returns memory to the OS).
func HeapAfterGC() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
