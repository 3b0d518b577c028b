package leader

import (
	"errors"
	"slices"
	"testing"
)

func TestSchemaParams(t *testing.T) {
	if got := string(SchemaParams()); got != `["_Server"]` {
		t.Errorf("SchemaParams %s", got)
	}
	if got := string(MonitorID()); got != `["monid","_Server"]` {
		t.Errorf("MonitorID %s", got)
	}
}

func TestMonitorParams(t *testing.T) {
	const all = `["_Server",["monid","_Server"],{"Database":[{"columns":` +
		`["name","model","connected","leader","schema","cid","index","sid"]}]}]`
	tests := []struct {
		name        string
		schema      string
		want        string
		wantMissing []string
		wantErr     bool
	}{
		{name: "real 3.1 schema", schema: string(readFile(t, "server-schema.json")), want: all},
		{name: "no sid: not reported missing",
			schema: `{"tables":{"Database":{"columns":{"name":{},"model":{},"connected":{},"leader":{},"schema":{},"cid":{},"index":{}}}}}`,
			want:   `["_Server",["monid","_Server"],{"Database":[{"columns":["name","model","connected","leader","schema","cid","index"]}]}]`},
		{name: "old server lacking cluster columns",
			schema:      `{"tables":{"Database":{"columns":{"name":{},"model":{},"connected":{},"leader":{},"schema":{}}}}}`,
			want:        `["_Server",["monid","_Server"],{"Database":[{"columns":["name","model","connected","leader","schema"]}]}]`,
			wantMissing: []string{"cid", "index"}},
		{name: "unknown extra columns are not requested",
			schema: `{"tables":{"Other":{"columns":{}},"Database":{"columns":{"future":{},"name":{},"model":{},"connected":{},"leader":{},"schema":{},"cid":{},"index":{},"sid":{}}}}}`,
			want:   all},
		{name: "no Database table", schema: `{"tables":{"Other":{"columns":{"name":{}}}}}`, wantErr: true},
		{name: "no tables", schema: `{"name":"_Server"}`, wantErr: true},
		{name: "no useful column", schema: `{"tables":{"Database":{"columns":{"x":{}}}}}`, wantErr: true,
			wantMissing: []string{"name", "model", "connected", "leader", "schema", "cid", "index"}},
		{name: "Database without columns", schema: `{"tables":{"Database":{}}}`, wantErr: true,
			wantMissing: []string{"name", "model", "connected", "leader", "schema", "cid", "index"}},
		{name: "tables not an object", schema: `{"tables":[]}`, wantErr: true},
		{name: "columns not an object", schema: `{"tables":{"Database":{"columns":1}}}`, wantErr: true},
		{name: "null", schema: `null`, wantErr: true},
		{name: "not JSON", schema: `{`, wantErr: true},
		{name: "empty", schema: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, missing, err := MonitorParams([]byte(tt.schema))
			if tt.wantErr {
				if !errors.Is(err, ErrBadServerSchema) {
					t.Errorf("error %v, want ErrBadServerSchema", err)
				}
				if got != nil {
					t.Errorf("params %s with an error", got)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != tt.want {
					t.Errorf("\n got %s\nwant %s", got, tt.want)
				}
			}
			if !slices.Equal(missing, tt.wantMissing) {
				t.Errorf("missing %q, want %q", missing, tt.wantMissing)
			}
		})
	}
}
