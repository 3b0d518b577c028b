package textdiff

import "testing"

func TestUnified(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		diff      string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{
			"changed line in the middle",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			"1\n2\n3\n4\nX\n6\n7\n8\n9\n",
			"--- want\n+++ got\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n",
		},
		{
			"two distant changes make two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			"X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			"--- want\n+++ got\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n",
		},
		{
			"appended line",
			"a\n",
			"a\nb\n",
			"--- want\n+++ got\n@@ -1,1 +1,2 @@\n a\n+b\n",
		},
		{
			"from empty",
			"",
			"a\n",
			"--- want\n+++ got\n@@ -0,0 +1,1 @@\n+a\n",
		},
		{
			"missing final newline",
			"a\nb\n",
			"a\nb",
			"--- want\n+++ got\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Unified("want", "got", tt.want, tt.got); got != tt.diff {
				t.Errorf("Unified() =\n%s\nwant\n%s", got, tt.diff)
			}
		})
	}
}
