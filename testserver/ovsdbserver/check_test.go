package ovsdbserver_test

// A few testify-style checks on the standard library. testify v1.12.1's
// assert package needs go.yaml.in/yaml/v3, which go.mod does not list yet,
// so the package's tests do without it.

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

type checker struct{ fatal bool }

var (
	assert  = checker{fatal: false}
	require = checker{fatal: true}
)

func (c checker) fail(t testing.TB, what string, msgAndArgs []any) {
	t.Helper()
	msg := ""
	if len(msgAndArgs) > 0 {
		if f, ok := msgAndArgs[0].(string); ok {
			msg = ": " + fmt.Sprintf(f, msgAndArgs[1:]...)
		} else {
			msg = ": " + fmt.Sprint(msgAndArgs...)
		}
	}
	if c.fatal {
		t.Fatalf("%s%s", what, msg)
	}
	t.Errorf("%s%s", what, msg)
}

func (c checker) NoError(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err != nil {
		c.fail(t, fmt.Sprintf("unexpected error: %v", err), msgAndArgs)
		return false
	}
	return true
}

func (c checker) Error(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err == nil {
		c.fail(t, "expected an error, got nil", msgAndArgs)
		return false
	}
	return true
}

func (c checker) ErrorContains(t testing.TB, err error, sub string, msgAndArgs ...any) bool {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		c.fail(t, fmt.Sprintf("expected an error containing %q, got %v", sub, err), msgAndArgs)
		return false
	}
	return true
}

func (c checker) ErrorAs(t testing.TB, err error, target any, msgAndArgs ...any) bool {
	t.Helper()
	if !errors.As(err, target) {
		c.fail(t, fmt.Sprintf("error %v is not a %T", err, target), msgAndArgs)
		return false
	}
	return true
}

func (c checker) Equal(t testing.TB, want, got any, msgAndArgs ...any) bool {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		c.fail(t, fmt.Sprintf("not equal:\nwant: %#v\n got: %#v", want, got), msgAndArgs)
		return false
	}
	return true
}

func (c checker) NotEqual(t testing.TB, a, b any, msgAndArgs ...any) bool {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		c.fail(t, fmt.Sprintf("both are %#v", a), msgAndArgs)
		return false
	}
	return true
}

func (c checker) True(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if !v {
		c.fail(t, "expected true", msgAndArgs)
	}
	return v
}

func (c checker) False(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if v {
		c.fail(t, "expected false", msgAndArgs)
	}
	return !v
}

func (c checker) Empty(t testing.TB, v string, msgAndArgs ...any) bool {
	t.Helper()
	if v != "" {
		c.fail(t, fmt.Sprintf("expected empty, got %q", v), msgAndArgs)
		return false
	}
	return true
}

func (c checker) Len(t testing.TB, v any, n int, msgAndArgs ...any) bool {
	t.Helper()
	if l := reflect.ValueOf(v).Len(); l != n {
		c.fail(t, fmt.Sprintf("length %d, want %d: %v", l, n, v), msgAndArgs)
		return false
	}
	return true
}

func (c checker) Regexp(t testing.TB, re, s string, msgAndArgs ...any) bool {
	t.Helper()
	if !regexp.MustCompile(re).MatchString(s) {
		c.fail(t, fmt.Sprintf("%q does not match %s", s, re), msgAndArgs)
		return false
	}
	return true
}

func Greater[T cmp.Ordered](t testing.TB, a, b T, msgAndArgs ...any) {
	t.Helper()
	if a <= b {
		assert.fail(t, fmt.Sprintf("%v is not greater than %v", a, b), msgAndArgs)
	}
}

func (c checker) NotEmpty(t testing.TB, v string, msgAndArgs ...any) bool {
	t.Helper()
	if v == "" {
		c.fail(t, "expected a non-empty string", msgAndArgs)
		return false
	}
	return true
}
