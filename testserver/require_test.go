package testserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The module's testify cannot be built with the go.mod as it stands (its
// yaml dependency is not required there), so the tests use this small
// stand-in with the same call shapes: require.Equal(t, want, got, ...).
type requireT struct{}

var require requireT

func msg(args []any) string {
	if len(args) == 0 {
		return ""
	}
	if f, ok := args[0].(string); ok {
		return ": " + fmt.Sprintf(f, args[1:]...)
	}
	return ": " + fmt.Sprint(args...)
}

func (requireT) NoError(t testing.TB, err error, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v%s", err, msg(args))
	}
}

func (requireT) Error(t testing.TB, err error, args ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected an error%s", msg(args))
	}
}

func (requireT) ErrorIs(t testing.TB, err, target error, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v is not %v%s", err, target, msg(args))
	}
}

func (requireT) Equal(t testing.TB, want, got any, args ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("not equal%s\nwant: %#v\ngot:  %#v", msg(args), want, got)
	}
}

func (requireT) NotEqual(t testing.TB, a, b any, args ...any) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		t.Fatalf("unexpectedly equal: %#v%s", a, msg(args))
	}
}

func (requireT) JSONEq(t testing.TB, want, got string, args ...any) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expected JSON %s: %v", want, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad JSON %s: %v%s", got, err, msg(args))
	}
	if !reflect.DeepEqual(w, g) {
		t.Fatalf("JSON not equal%s\nwant: %s\ngot:  %s", msg(args), want, got)
	}
}

func (requireT) True(t testing.TB, v bool, args ...any) {
	t.Helper()
	if !v {
		t.Fatalf("expected true%s", msg(args))
	}
}

func (requireT) False(t testing.TB, v bool, args ...any) {
	t.Helper()
	if v {
		t.Fatalf("expected false%s", msg(args))
	}
}

func (requireT) Empty(t testing.TB, v any, args ...any) {
	t.Helper()
	if rv := reflect.ValueOf(v); v != nil && rv.Len() != 0 {
		t.Fatalf("expected empty, got %v%s", v, msg(args))
	}
}

func (requireT) Len(t testing.TB, v any, n int, args ...any) {
	t.Helper()
	if l := reflect.ValueOf(v).Len(); l != n {
		t.Fatalf("expected length %d, got %d (%v)%s", n, l, v, msg(args))
	}
}

func (requireT) Regexp(t testing.TB, re, s string, args ...any) {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(s) {
		t.Fatalf("%q does not match %q%s", s, re, msg(args))
	}
}

func (requireT) Contains(t testing.TB, s, sub string, args ...any) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q%s", s, sub, msg(args))
	}
}

func (requireT) NotContains(t testing.TB, s, sub string, args ...any) {
	t.Helper()
	if strings.Contains(s, sub) {
		t.Fatalf("%q contains %q%s", s, sub, msg(args))
	}
}

func (requireT) Positive(t testing.TB, v int64, args ...any) {
	t.Helper()
	if v <= 0 {
		t.Fatalf("expected a positive number, got %d%s", v, msg(args))
	}
}

func (requireT) Less(t testing.TB, a, b int64, args ...any) {
	t.Helper()
	if a >= b {
		t.Fatalf("expected %d < %d%s", a, b, msg(args))
	}
}
