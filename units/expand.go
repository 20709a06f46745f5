package units

import "strings"

// Expand replaces Kubernetes variable references $(NAME) in s with their values
// from lookup, as the kubelet does for env values, command and args:
//   - $(NAME) of a defined variable becomes its value;
//   - $(NAME) of an undefined one stays as written;
//   - $$ becomes $, so $$(NAME) yields the literal text $(NAME);
//   - any other $ (and an unclosed "$(") is kept as is.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
	}
	return b.String()
}
