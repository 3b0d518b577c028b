package ovsjson

// ParseUUID parses the 36-character 8-4-4-4-12 hexadecimal form of a uuid,
// in upper or lower case (ovsdb-server accepts both), into its 16 bytes in
// the order they are written. It does not allocate.
func ParseUUID[S ~string | ~[]byte](s S) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := hexValue[s[i]], hexValue[s[i+1]]
		if hi|lo > 15 {
			return [16]byte{}, false
		}
		u[j] = hi<<4 | lo
		j++
		i += 2
	}
	return u, true
}

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
