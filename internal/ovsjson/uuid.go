package ovsjson

// ParseUUID parses the 36-character 8-4-4-4-12 hexadecimal form of a uuid,
// in upper or lower case (ovsdb-server accepts both), into its 16 bytes in
// the order they are written. It does not allocate.
func ParseUUID[S ~string | ~[]byte](s S) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	var bad byte
	for j, i := range uuidHexAt {
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		bad |= hi | lo
		u[j] = hi<<4 | lo
	}
	if bad > 15 {
		return [16]byte{}, false
	}
	return u, true
}

// uuidHexAt is where each byte's two hex digits start in the 8-4-4-4-12
// form.
var uuidHexAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

const hexDigits = "0123456789abcdef"

// AppendUUID appends the canonical lower-case 8-4-4-4-12 form of u to b.
func AppendUUID(b []byte, u [16]byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// CanonicalUUID returns s, a uuid in the 8-4-4-4-12 form, in lower case; ok
// is false when s is not a uuid.
func CanonicalUUID(s string) (string, bool) {
	u, ok := ParseUUID(s)
	if !ok {
		return "", false
	}
	var b [36]byte
	return string(AppendUUID(b[:0], u)), true
}
