package ovstable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ovsdbcs/ovsdbcs/monitor"
)

// A small JSON model, serialized the way Open vSwitch's json_to_string does
// with JSSF_SORT (object members sorted by name) and, with pretty, the
// JSSF_PRETTY layout of lib/json.c: every array element and object member
// on its own line indented by two spaces per level, the closing bracket
// right after the last element.
type (
	jsonValue  interface{}
	jsonObject map[string]jsonValue
	jsonArray  []jsonValue
	jsonString string
	// jsonNumber is a number as read (integers keep every digit).
	jsonNumber string
	jsonBool   bool
	jsonNull   struct{}
)

// datumJSON returns d in OVSDB JSON notation.
func datumJSON(d monitor.Datum) jsonValue {
	v, err := ParseJSON(d.AppendJSON(nil))
	if err != nil {
		return jsonNull{} // unreachable: the encoder writes valid JSON
	}
	return v
}

// ParseJSON reads one JSON value.
func ParseJSON(data []byte) (jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseJSONValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func parseJSONValue(dec *json.Decoder) (jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			arr := jsonArray{}
			for dec.More() {
				v, err := parseJSONValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		case '{':
			obj := jsonObject{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseJSONValue(dec)
				if err != nil {
					return nil, err
				}
				obj[k.(string)] = v
			}
			_, err := dec.Token()
			return obj, err
		}
	case string:
		return jsonString(t), nil
	case json.Number:
		return jsonNumber(t), nil
	case bool:
		return jsonBool(t), nil
	case nil:
		return jsonNull{}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// AppendJSON appends the JSON text data re-serialized as ovsdb-client
// prints JSON: members sorted, reals with 15 significant digits, pretty
// when asked.
func AppendJSON(b, data []byte, pretty bool) ([]byte, error) {
	v, err := ParseJSON(data)
	if err != nil {
		return b, err
	}
	return appendJSONValue(b, v, pretty, 0), nil
}

func indent(b []byte, pretty bool, depth int) []byte {
	if !pretty {
		return b
	}
	b = append(b, '\n')
	return append(b, strings.Repeat("  ", depth)...)
}

func appendJSONValue(b []byte, v jsonValue, pretty bool, depth int) []byte {
	switch v := v.(type) {
	case jsonObject:
		b = append(b, '{')
		depth++
		b = indent(b, pretty, depth)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
				b = indent(b, pretty, depth)
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			if pretty {
				b = append(b, ' ')
			}
			b = appendJSONValue(b, v[k], pretty, depth)
		}
		return append(b, '}')
	case jsonArray:
		b = append(b, '[')
		depth++
		if len(v) > 0 {
			b = indent(b, pretty, depth)
			for i, e := range v {
				if i > 0 {
					b = append(b, ',')
					b = indent(b, pretty, depth)
				}
				b = appendJSONValue(b, e, pretty, depth)
			}
		}
		return append(b, ']')
	case jsonString:
		return appendJSONString(b, string(v))
	case jsonNumber:
		return appendNumber(b, string(v))
	case jsonBool:
		if v {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

// appendNumber writes an integer as read and a real as "%.15g".
func appendNumber(b []byte, n string) []byte {
	if !strings.ContainsAny(n, ".eE") {
		return append(b, n...)
	}
	var f float64
	if _, err := fmt.Sscan(n, &f); err != nil {
		return append(b, n...)
	}
	return append(b, formatReal(f)...)
}

// appendJSONString writes s as lib/json.c's json_serialize_string does:
// quote and backslash escaped, \b \f \n \r \t by name, other control
// characters as \u00XX, everything else as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, `\b`...)
		case c == '\f':
			b = append(b, `\f`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c == '\t':
			b = append(b, `\t`...)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
