package ijson

import "strconv"

// LoneSurrogate reports whether raw, JSON text as it was sent or written (a whole document or
// one string), has a \u escape of a UTF-16 surrogate that is not half of a pair. I-JSON (RFC
// 7493 §2.1) refuses them; decoders silently replace them with U+FFFD, so the check runs on
// the bytes, before decoding.
func LoneSurrogate(raw []byte) bool {
	high := false // the previous character was a \u escape of a high surrogate
	for i := 0; i < len(raw); i++ {
		r := rune(-1)
		if raw[i] == '\\' && i+1 < len(raw) {
			i++ // the escaped character, which may be a backslash
			if raw[i] == 'u' && i+4 < len(raw) {
				if v, err := strconv.ParseUint(string(raw[i+1:i+5]), 16, 16); err == nil {
					r = rune(v)
					i += 4
				}
			}
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if high {
				return true
			}
			high = true
		case r >= 0xDC00 && r <= 0xDFFF:
			if !high {
				return true
			}
			high = false
		case high:
			return true
		}
	}
	return high
}
