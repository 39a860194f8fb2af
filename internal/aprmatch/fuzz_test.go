package aprmatch

import (
	"sync"
	"testing"
)

// oracleIfAny is the libapr helper when gcc and libapr are present, else
// nil: the fuzz targets then check only their own invariants.
var oracleIfAny = sync.OnceValue(func() *oracle {
	oracleOnce.Do(func() { theOracle, oracleErr = startOracle() })
	if oracleErr != nil {
		return nil
	}
	return theOracle
})

// FuzzMatch: Match never panics, agrees with libapr's apr_fnmatch when
// the helper runs, and CaseBlind only adds matches.
func FuzzMatch(f *testing.F) {
	f.Add("/srv/www/[!x]*/", "/srv/www/abc/", uint8(PathName))
	f.Add("*.conf", ".x.conf", uint8(Period))
	f.Fuzz(func(t *testing.T, pattern, name string, flags uint8) {
		fl := Flags(flags) & (PathName | Period | CaseBlind)
		got := Match(pattern, name, fl)
		if got && fl&CaseBlind == 0 && !Match(pattern, name, fl|CaseBlind) {
			t.Fatalf("Match(%q, %q) matches, but not with CaseBlind", pattern, name)
		}
		if o := oracleIfAny(); o != nil && len(pattern) < 4000 && len(name) < 4000 {
			if want := o.match(t, pattern, name, fl); got != want {
				t.Fatalf("Match(%q, %q, %d) = %v, libapr says %v", pattern, name, fl, got, want)
			}
			if got, want := IsPattern(pattern), o.isPattern(t, pattern); got != want {
				t.Fatalf("IsPattern(%q) = %v, libapr says %v", pattern, got, want)
			}
		}
	})
}

// FuzzCaseMatch: CaseMatch never panics and agrees with a transcription
// of ap_strcasecmp_match's recursion (kept short: the recursion is
// exponential in the number of stars).
func FuzzCaseMatch(f *testing.F) {
	f.Add("*.example.com", "www.EXAMPLE.com")
	f.Add("w?w.*.org", "www.a.b.org")
	f.Fuzz(func(t *testing.T, pattern, host string) {
		got := CaseMatch(pattern, host)
		if len(pattern) > 24 || len(host) > 64 {
			return
		}
		if want := caseMatchRef(pattern, host); got != want {
			t.Fatalf("CaseMatch(%q, %q) = %v, ap_strcasecmp_match says %v", pattern, host, got, want)
		}
	})
}
