package rawrpc

import (
	"bufio"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	tests := []struct{ in, first string }{
		{`{"id":1,"result":{"Item":{}}}{"id":2}`, `{"id":1,"result":{"Item":{}}}`},
		{`{"s":"a } ] { \" \\"}x`, `{"s":"a } ] { \" \\"}`},
		{`  [1,[2],{"a":[]}] tail`, `  [1,[2],{"a":[]}]`},
	}
	for _, tt := range tests {
		n, err := skipValue(bufio.NewReader(strings.NewReader(tt.in)))
		if err != nil || n != int64(len(tt.first)) {
			t.Errorf("skipValue(%q) = %d, %v; want %d", tt.in, n, err, len(tt.first))
		}
	}
	if _, err := skipValue(bufio.NewReader(strings.NewReader(`{"a":`))); err == nil {
		t.Error("skipValue of a truncated value: no error")
	}
}
