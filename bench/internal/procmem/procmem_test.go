package procmem

import "testing"

func TestStatus(t *testing.T) {
	rss, peak := Status(0, "VmRSS"), Status(0, "VmHWM")
	if rss <= 0 || peak < rss {
		t.Errorf("VmRSS %d, VmHWM %d", rss, peak)
	}
	if Status(0, "NoSuchField") != 0 || Status(-1, "VmRSS") != 0 {
		t.Error("an unknown field or process is not 0")
	}
	if HeapAfterGC() == 0 {
		t.Error("no heap")
	}
}
