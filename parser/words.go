package parser

// SplitArgs splits a directive's argument text into arguments exactly as
// httpd's ap_getword_conf does (see splitWords), for callers that
// substitute ${VAR} themselves before splitting, as httpd does.
func SplitArgs(s string) []string { return splitWords(s) }

// splitWords splits an argument string the way httpd's ap_getword_conf
// does (server/util.c): blanks separate words; a word starting with " or '
// runs to the matching quote, in which only \<quote> and \\ are unescaped
// (every other backslash stays); an unterminated quote runs to the end of
// the line; a closing quote ends the word even without a following blank;
// in unquoted words only \\ is unescaped and quote characters are literal.
func splitWords(s string) []string {
	if s == "" {
		return nil
	}
	// Collected on the stack, then copied to a slice of the exact size: a
	// large tree has a few hundred thousand of them, most of one to three
	// words.
	var buf [8]string
	words := buf[:0]
	for {
		w, rest, ok := nextWord(s)
		if !ok {
			return append(make([]string, 0, len(words)), words...)
		}
		words = append(words, w)
		s = rest
	}
}

// nextWord returns the first word of s and what follows it.
func nextWord(s string) (word, rest string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return "", "", false
	}
	var end, next int
	var quote byte
	if q := s[i]; q == '"' || q == '\'' {
		quote = q
		j := i + 1
		for j < len(s) && s[j] != q {
			if s[j] == '\\' && j+1 < len(s) && (s[j+1] == q || s[j+1] == '\\') {
				j += 2
			} else {
				j++
			}
		}
		word = unescape(s[i+1:j], quote)
		end = j
		if j < len(s) {
			end = j + 1
		}
		next = end
	} else {
		j := i
		for j < len(s) && !isSpace(s[j]) {
			j++
		}
		word = unescape(s[i:j], 0)
		next = j
	}
	for next < len(s) && isSpace(s[next]) {
		next++
	}
	return word, s[next:], true
}

// unescape is httpd's substring_conf: \\ always, and \<quote> inside quotes.
func unescape(s string, quote byte) string {
	k := -1
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\\' && (s[i+1] == '\\' || (quote != 0 && s[i+1] == quote)) {
			k = i
			break
		}
	}
	if k < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:k]...)
	for i := k; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || (quote != 0 && s[i+1] == quote)) {
			i++
		}
		b = append(b, s[i])
	}
	return string(b)
}
